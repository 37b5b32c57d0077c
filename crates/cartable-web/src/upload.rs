//! Reading a `multipart/form-data` form where some fields are files.
//!
//! - The first field must be `csrf`; it is checked (token and origin) before
//!   anything else is read.
//! - Each file is streamed chunk by chunk into the [`BlobStore`], never held
//!   whole in memory; the store caps it, hashes it and sniffs its type.
//! - On any error, every file this form already stored is deleted before the
//!   error is returned; if the request is dropped half-way (timeout, client
//!   gone), they are deleted in the background. A form either gives all its
//!   files or leaves none.
//!
//! The caller stores the rows that point to the files; if that fails, it must
//! delete the files it was given.

use std::sync::Arc;

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::Multipart;
use axum::http::request::Parts;
use axum::http::StatusCode;
use cartable_app::blobs::{human_size, BlobError, BlobMeta, BlobStore, BlobWriter};
use cartable_app::AppError;

use crate::csrf::{self, CSRF_FIELD};
use crate::error::WebError;
use crate::state::AppState;

/// At most this many fields in one form (text and files).
pub const MAX_FIELDS: usize = 200;
/// Longest field name, in bytes.
const MAX_NAME_BYTES: usize = 100;
/// Longest kept file name, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 120;

/// A file of the form, stored and durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    /// Name of the form field.
    pub field: String,
    /// The client's file name, sanitized (see [`sanitize_file_name`]); only
    /// for display and `Content-Disposition`, never for a path.
    pub file_name: String,
    pub meta: BlobMeta,
}

/// A whole form: its text fields in order, and its files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadForm {
    pub fields: Vec<(String, String)>,
    pub files: Vec<UploadedFile>,
}

impl UploadForm {
    /// The first value of a text field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// Largest single file.
    pub max_file_bytes: u64,
    /// Most files in one form (file inputs left empty do not count).
    pub max_files: usize,
    /// Largest sum of the files' sizes.
    pub max_total_bytes: u64,
    /// Largest sum of the text fields' values, in bytes.
    pub max_text_bytes: usize,
}

impl UploadLimits {
    /// A `DefaultBodyLimit` for a route using these limits: the files, the
    /// text and room for the multipart headers.
    pub fn body_limit(&self) -> usize {
        let files = usize::try_from(self.max_total_bytes).unwrap_or(usize::MAX);
        files
            .saturating_add(self.max_text_bytes)
            .saturating_add(64 * 1024)
    }
}

#[derive(Debug)]
pub enum UploadError {
    /// Missing or wrong token, or the token is not the first field.
    Csrf,
    /// A file was refused or could not be stored.
    Blob(BlobError),
    TooManyFiles {
        max: usize,
    },
    /// The files together are larger than `max_total_bytes` (or the body
    /// larger than the route's limit).
    TotalTooLarge {
        limit: u64,
    },
    BadForm(String),
    /// The body stopped before its end (connection cut, truncated body).
    Interrupted,
    /// The body came too slowly (nothing for a while, or a trickle).
    TooSlow,
}

/// No byte of a file for this long: the upload is abandoned.
pub const UPLOAD_IDLE: std::time::Duration = std::time::Duration::from_secs(30);
/// After this long, an upload must average at least [`UPLOAD_MIN_BYTES_PER_SEC`]
/// (a 2G phone sends ten times more): a 1-byte-every-29-s body cannot pass.
pub const UPLOAD_RATE_GRACE: std::time::Duration = std::time::Duration::from_secs(30);
pub const UPLOAD_MIN_BYTES_PER_SEC: f64 = 1024.0;

/// Has an upload that sent `bytes` in `elapsed` fallen below the minimum rate?
fn too_slow(bytes: u64, elapsed: std::time::Duration) -> bool {
    elapsed > UPLOAD_RATE_GRACE && (bytes as f64) < UPLOAD_MIN_BYTES_PER_SEC * elapsed.as_secs_f64()
}

impl UploadError {
    /// Stable code for programs (`X-Cartable-Error`).
    pub fn code(&self) -> &'static str {
        match self {
            UploadError::Csrf => "csrf",
            UploadError::Blob(e) => e.code(),
            UploadError::TooManyFiles { .. } => "upload.too_many",
            UploadError::TotalTooLarge { .. } => "upload.too_large",
            UploadError::BadForm(_) => "bad_form",
            UploadError::Interrupted => "upload.interrupted",
            UploadError::TooSlow => "upload.too_slow",
        }
    }

    /// What a person reads.
    pub fn message_fr(&self) -> String {
        match self {
            UploadError::Csrf => "Ce formulaire a expiré ou ne vient pas de Cartable. Rechargez la page et recommencez : rien n'a été enregistré.".into(),
            UploadError::Blob(e) => e.message_fr(),
            UploadError::TooManyFiles { max } => format!(
                "Trop de fichiers : {max} au plus par envoi. Rien n'a été enregistré."
            ),
            UploadError::TotalTooLarge { limit } => format!(
                "L'ensemble des fichiers dépasse {} : envoyez-en moins à la fois. Rien n'a été enregistré.",
                human_size(*limit)
            ),
            UploadError::BadForm(m) => m.clone(),
            UploadError::Interrupted => BlobError::Interrupted(String::new()).message_fr(),
            UploadError::TooSlow => "L'envoi est trop lent ou s'est arrêté : rien n'a été enregistré. Réessayez, si possible avec une meilleure connexion.".into(),
        }
    }
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadError::Blob(e) => write!(f, "{}: {e}", self.code()),
            _ => write!(f, "{}", self.code()),
        }
    }
}

impl std::error::Error for UploadError {}

impl From<UploadError> for WebError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Csrf => WebError::Csrf,
            UploadError::BadForm(m) => WebError::BadForm(m),
            // A fault of the server, not of the file: logged, 500.
            UploadError::Blob(BlobError::Io(io)) => WebError::Internal(format!("blob store: {io}")),
            UploadError::Blob(BlobError::NotFound) => WebError::not_found(),
            other => WebError::App(AppError::invalid(other.code(), other.message_fr())),
        }
    }
}

/// Reads the whole form (see the module doc). The route must allow a body of
/// [`UploadLimits::body_limit`] and a timeout long enough for slow links.
pub async fn read_upload_form(
    state: &AppState,
    parts: &Parts,
    multipart: Multipart,
    limits: &UploadLimits,
) -> Result<UploadForm, UploadError> {
    read_form(state.app.blobs.clone(), multipart, limits, |token| {
        csrf::verify(state, parts, Some(token)).is_ok()
    })
    .await
}

/// [`read_upload_form`] with the store and the token check given.
async fn read_form(
    store: Arc<dyn BlobStore>,
    mut multipart: Multipart,
    limits: &UploadLimits,
    csrf_ok: impl FnOnce(&str) -> bool,
) -> Result<UploadForm, UploadError> {
    let mut stored = Stored {
        store: store.clone(),
        files: Vec::new(),
    };
    match read_fields(&*store, &mut multipart, limits, csrf_ok, &mut stored.files).await {
        Ok(fields) => Ok(UploadForm {
            fields,
            files: std::mem::take(&mut stored.files),
        }),
        Err(e) => {
            stored.delete_all().await;
            Err(e)
        }
    }
}

/// Files stored by a form being read: deleted unless the form is read whole.
struct Stored {
    store: Arc<dyn BlobStore>,
    files: Vec<UploadedFile>,
}

impl Stored {
    async fn delete_all(&mut self) {
        for f in std::mem::take(&mut self.files) {
            delete_quietly(&*self.store, &f.meta.key).await;
        }
    }
}

impl Drop for Stored {
    /// The request was dropped while reading (timeout, client gone).
    fn drop(&mut self) {
        if self.files.is_empty() {
            return;
        }
        let files = std::mem::take(&mut self.files);
        let store = self.store.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    for f in files {
                        delete_quietly(&*store, &f.meta.key).await;
                    }
                });
            }
            Err(_) => {
                for f in files {
                    tracing::warn!(key = %f.meta.key, "orphan upload left behind (no runtime)");
                }
            }
        }
    }
}

async fn delete_quietly(store: &dyn BlobStore, key: &str) {
    match store.delete(key).await {
        Ok(()) | Err(BlobError::NotFound) => {}
        Err(e) => tracing::warn!(error = %e, key, "could not delete the file of a failed form"),
    }
}

async fn read_fields(
    store: &dyn BlobStore,
    multipart: &mut Multipart,
    limits: &UploadLimits,
    csrf_ok: impl FnOnce(&str) -> bool,
    files: &mut Vec<UploadedFile>,
) -> Result<Vec<(String, String)>, UploadError> {
    let body_error = |e: MultipartError| body_error(e, limits);

    // The token first: nothing else is read before it is checked.
    let token = match multipart.next_field().await {
        Ok(Some(field)) if field.name() == Some(CSRF_FIELD) && field.file_name().is_none() => {
            read_text(field, 512).await.map_err(|_| UploadError::Csrf)?
        }
        Ok(_) => return Err(UploadError::Csrf),
        Err(e) => return Err(body_error(e)),
    };
    if !csrf_ok(token.trim()) {
        return Err(UploadError::Csrf);
    }

    let started = std::time::Instant::now();
    let mut fields = Vec::new();
    let mut field_count = 1;
    let mut text_bytes = 0usize;
    let mut total_bytes = 0u64;
    while let Some(mut field) = multipart.next_field().await.map_err(body_error)? {
        field_count += 1;
        if field_count > MAX_FIELDS {
            return Err(UploadError::BadForm(
                "Le formulaire envoyé contient trop de champs : rechargez la page et recommencez."
                    .into(),
            ));
        }
        let name = field.name().unwrap_or("").to_string();
        if name.is_empty() || name.len() > MAX_NAME_BYTES {
            return Err(UploadError::BadForm(
                "Le formulaire envoyé est illisible : rechargez la page et recommencez.".into(),
            ));
        }
        let Some(raw_file_name) = field.file_name().map(str::to_string) else {
            let budget = limits.max_text_bytes.saturating_sub(text_bytes);
            let value = read_text(field, budget).await.map_err(|e| match e {
                TextError::TooLong => UploadError::BadForm(
                    "Le texte envoyé est trop long : raccourcissez-le et recommencez.".into(),
                ),
                TextError::NotUtf8 => UploadError::BadForm(
                    "Le formulaire envoyé est illisible (texte mal encodé) : rechargez la page et recommencez."
                        .into(),
                ),
                TextError::Body(e) => body_error(e),
                TextError::Stalled => UploadError::TooSlow,
            })?;
            text_bytes += value.len();
            // A second token is not a field of the form.
            if name != CSRF_FIELD {
                fields.push((name, value));
            }
            continue;
        };

        // A file: stream it; create the blob at its first byte, so that an
        // input left empty costs nothing.
        let mut writer: Option<Box<dyn BlobWriter>> = None;
        let streamed: Result<(), UploadError> = async {
            loop {
                // A client that stops sending, or trickles, must not hold a
                // connection and a half-written file for the route's whole deadline.
                let next = tokio::time::timeout(UPLOAD_IDLE, field.chunk())
                    .await
                    .map_err(|_| UploadError::TooSlow)?;
                let Some(chunk) = next.map_err(body_error)? else {
                    break;
                };
                if chunk.is_empty() {
                    continue;
                }
                total_bytes = total_bytes.saturating_add(chunk.len() as u64);
                if too_slow(total_bytes, started.elapsed()) {
                    return Err(UploadError::TooSlow);
                }
                if total_bytes > limits.max_total_bytes {
                    return Err(UploadError::TotalTooLarge {
                        limit: limits.max_total_bytes,
                    });
                }
                let w = match writer.as_mut() {
                    Some(w) => w,
                    None => {
                        if files.len() >= limits.max_files {
                            return Err(UploadError::TooManyFiles {
                                max: limits.max_files,
                            });
                        }
                        writer.insert(
                            store
                                .create(limits.max_file_bytes)
                                .await
                                .map_err(UploadError::Blob)?,
                        )
                    }
                };
                w.write(&chunk).await.map_err(UploadError::Blob)?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = streamed {
            if let Some(w) = writer {
                w.abort().await;
            }
            return Err(e);
        }
        match writer {
            // No file chosen in this input.
            None if raw_file_name.trim().is_empty() => {}
            None => return Err(UploadError::Blob(BlobError::Empty)),
            Some(w) => {
                let meta = w.finish().await.map_err(UploadError::Blob)?;
                files.push(UploadedFile {
                    field: name,
                    file_name: sanitize_file_name(&raw_file_name),
                    meta,
                });
            }
        }
    }
    Ok(fields)
}

/// A body that could not be read: too large for the route, or cut.
fn body_error(e: MultipartError, limits: &UploadLimits) -> UploadError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        UploadError::TotalTooLarge {
            limit: limits.max_total_bytes,
        }
    } else {
        tracing::debug!(error = %e.body_text(), "multipart body cut or malformed");
        UploadError::Interrupted
    }
}

enum TextError {
    TooLong,
    /// Nothing arrived for [`UPLOAD_IDLE`].
    Stalled,
    NotUtf8,
    Body(MultipartError),
}

/// A text field's value, read chunk by chunk up to `max` bytes.
async fn read_text(mut field: Field<'_>, max: usize) -> Result<String, TextError> {
    let mut buf = Vec::new();
    loop {
        let next = tokio::time::timeout(UPLOAD_IDLE, field.chunk())
            .await
            .map_err(|_| TextError::Stalled)?;
        let Some(chunk) = next.map_err(TextError::Body)? else {
            break;
        };
        if buf.len() + chunk.len() > max {
            return Err(TextError::TooLong);
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf)
        .map(crate::middleware::without_nul)
        .map_err(|_| TextError::NotUtf8)
}

/// A client's file name made safe to show and to put in a header: no path
/// (`/` or `\`), no control or bidirectional-override characters (which can
/// make `photo<U+202E>gnp.exe` look like `photoexe.png`), trimmed, at most
/// [`MAX_FILE_NAME_CHARS`] characters keeping the extension; `"fichier"` if
/// nothing is left.
pub fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(c,
                    '\u{200B}'..='\u{200F}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2060}'..='\u{2064}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{FEFF}'
                    | '\u{FFF9}'..='\u{FFFB}')
        })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() || trimmed.chars().all(|c| c == '.') {
        return "fichier".into();
    }
    if trimmed.chars().count() <= MAX_FILE_NAME_CHARS {
        return trimmed.to_string();
    }
    // Too long: shorten the stem, keep a short extension.
    let ext = trimmed
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| (1..=10).contains(&e.chars().count()) && e.chars().all(char::is_alphanumeric));
    match ext {
        Some(ext) => {
            let keep = MAX_FILE_NAME_CHARS - ext.chars().count() - 1;
            let stem: String = trimmed.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => trimmed
            .chars()
            .take(MAX_FILE_NAME_CHARS)
            .collect::<String>()
            .trim_end()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use axum::body::{Body, Bytes};
    use axum::extract::FromRequest;
    use axum::http::Request;
    use axum::response::IntoResponse;
    use cartable_app::blobs::FsBlobStore;
    use futures_util::StreamExt;

    use super::*;

    const BOUNDARY: &str = "XyZzYboundary42";
    const TOKEN: &str = "le-bon-jeton";

    /// A temp directory removed at the end of the test.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "cartable-upload-test-{}",
                hex::encode(rand::random::<[u8; 8]>())
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn store(dir: &TempDir) -> Arc<dyn BlobStore> {
        Arc::new(FsBlobStore::new(dir.0.join("blobs")).unwrap())
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

    enum Part<'a> {
        Text(&'a str, &'a str),
        File(&'a str, &'a str, &'a [u8]),
    }

    fn body(parts: &[Part<'_>]) -> Vec<u8> {
        let mut b = Vec::new();
        for p in parts {
            b.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            match p {
                Part::Text(name, value) => {
                    b.extend_from_slice(
                        format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                            .as_bytes(),
                    );
                    b.extend_from_slice(value.as_bytes());
                }
                Part::File(name, file_name, content) => {
                    b.extend_from_slice(
                        format!(
                            "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    b.extend_from_slice(content);
                }
            }
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        b
    }

    async fn multipart(body: Body) -> Multipart {
        let req = Request::builder()
            .method("POST")
            .uri("/")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .unwrap();
        Multipart::from_request(req, &()).await.unwrap()
    }

    fn limits() -> UploadLimits {
        UploadLimits {
            max_file_bytes: 100_000,
            max_files: 2,
            max_total_bytes: 150_000,
            max_text_bytes: 1_000,
        }
    }

    async fn read(
        store: &Arc<dyn BlobStore>,
        body: Vec<u8>,
        limits: &UploadLimits,
    ) -> Result<UploadForm, UploadError> {
        let mp = multipart(Body::from(body)).await;
        read_form(store.clone(), mp, limits, |t| t == TOKEN).await
    }

    fn pdf(len: usize) -> Vec<u8> {
        let mut v = b"%PDF-1.7\n".to_vec();
        v.resize(len, b'x');
        v
    }

    #[tokio::test]
    async fn reads_fields_and_streams_files() {
        let dir = TempDir::new();
        let store = store(&dir);
        let big = pdf(90_000);
        let form = read(
            &store,
            body(&[
                Part::Text("csrf", TOKEN),
                Part::Text("objet", "Sortie au musée"),
                Part::File("fichier", "C:\\Users\\élève\\devoir.pdf", &big),
                Part::Text("personne", "12"),
                Part::File("fichier", "", b""),
                Part::File("fichier", "notes\u{202E}txt.exe", "Bonjour".as_bytes()),
                Part::Text("personne", "13"),
            ]),
            &limits(),
        )
        .await
        .unwrap();
        assert_eq!(
            form.fields,
            [
                ("objet".to_string(), "Sortie au musée".to_string()),
                ("personne".to_string(), "12".to_string()),
                ("personne".to_string(), "13".to_string()),
            ]
        );
        assert_eq!(form.field("personne"), Some("12"));
        assert_eq!(form.files.len(), 2);
        let (a, b) = (&form.files[0], &form.files[1]);
        assert_eq!(a.field, "fichier");
        assert_eq!(a.file_name, "devoir.pdf");
        assert_eq!(a.meta.size, 90_000);
        assert_eq!(a.meta.content_type, "application/pdf");
        assert_eq!(&store.read(&a.meta.key).await.unwrap()[..], &big[..]);
        assert_eq!(b.file_name, "notestxt.exe");
        assert_eq!(b.meta.content_type, "text/plain; charset=utf-8");
        assert_eq!(files_under(&dir.0).len(), 2);
    }

    #[tokio::test]
    async fn token_must_come_first_and_be_right() {
        let dir = TempDir::new();
        let store = store(&dir);
        let cases = [
            body(&[
                Part::File("fichier", "a.pdf", &pdf(100)),
                Part::Text("csrf", TOKEN),
            ]),
            body(&[Part::Text("objet", "x"), Part::Text("csrf", TOKEN)]),
            body(&[Part::Text("csrf", "un-faux-jeton")]),
            body(&[Part::File("csrf", "csrf.txt", TOKEN.as_bytes())]),
            body(&[]),
        ];
        for b in cases {
            let err = read(&store, b, &limits()).await.unwrap_err();
            assert!(matches!(err, UploadError::Csrf), "{err:?}");
        }
        assert!(files_under(&dir.0).is_empty());
    }

    #[tokio::test]
    async fn a_refused_file_removes_the_ones_before() {
        let dir = TempDir::new();
        let store = store(&dir);
        let err = read(
            &store,
            body(&[
                Part::Text("csrf", TOKEN),
                Part::File("fichier", "a.pdf", &pdf(1_000)),
                Part::File("fichier", "page.html", b"<html><script>alert(1)</script>"),
            ]),
            &limits(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, UploadError::Blob(BlobError::TypeNotAllowed { .. })),
            "{err:?}"
        );
        assert_eq!(err.code(), "upload.type");
        assert!(files_under(&dir.0).is_empty());
    }

    #[tokio::test]
    async fn limits_are_enforced_and_leave_nothing() {
        let dir = TempDir::new();
        let store = store(&dir);
        let small = pdf(1_000);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                body(&[
                    Part::Text("csrf", TOKEN),
                    Part::File("f", "a.pdf", &small),
                    Part::File("f", "b.pdf", &small),
                    Part::File("f", "c.pdf", &small),
                ]),
                "upload.too_many",
            ),
            (
                body(&[
                    Part::Text("csrf", TOKEN),
                    Part::File("f", "a.pdf", &pdf(100_001)),
                ]),
                "upload.too_large",
            ),
            (
                body(&[
                    Part::Text("csrf", TOKEN),
                    Part::File("f", "a.pdf", &pdf(90_000)),
                    Part::File("f", "b.pdf", &pdf(90_000)),
                ]),
                "upload.too_large",
            ),
            (
                body(&[Part::Text("csrf", TOKEN), Part::File("f", "vide.txt", b"")]),
                "upload.empty",
            ),
            (
                body(&[
                    Part::Text("csrf", TOKEN),
                    Part::File("f", "a.pdf", &small),
                    Part::Text("message", &"a".repeat(1_001)),
                ]),
                "bad_form",
            ),
        ];
        for (b, code) in cases {
            let err = read(&store, b, &limits()).await.unwrap_err();
            assert_eq!(err.code(), code, "{err:?}");
            assert!(files_under(&dir.0.join("blobs")).is_empty(), "{code}");
        }
    }

    #[tokio::test]
    async fn a_cut_body_leaves_nothing() {
        let dir = TempDir::new();
        let store = store(&dir);
        let mut b = body(&[
            Part::Text("csrf", TOKEN),
            Part::File("f", "a.pdf", &pdf(5_000)),
            Part::File("f", "b.pdf", &pdf(50_000)),
        ]);
        b.truncate(b.len() - 20_000);
        let err = read(&store, b, &limits()).await.unwrap_err();
        assert!(matches!(err, UploadError::Interrupted), "{err:?}");
        assert!(files_under(&dir.0.join("blobs")).is_empty());

        // A stream error (connection reset) in the middle of a file.
        let b = body(&[
            Part::Text("csrf", TOKEN),
            Part::File("f", "a.pdf", &pdf(5_000)),
            Part::File("f", "b.pdf", &pdf(50_000)),
        ]);
        let head = Bytes::copy_from_slice(&b[..b.len() - 20_000]);
        let stream = futures_util::stream::iter(vec![
            Ok(head),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "reset",
            )),
        ]);
        let mp = multipart(Body::from_stream(stream)).await;
        let err = read_form(store.clone(), mp, &limits(), |t| t == TOKEN)
            .await
            .unwrap_err();
        assert!(matches!(err, UploadError::Interrupted), "{err:?}");
        assert!(files_under(&dir.0.join("blobs")).is_empty());
    }

    #[tokio::test]
    async fn a_dropped_request_leaves_nothing() {
        let dir = TempDir::new();
        let store = store(&dir);
        // One whole file, then the body stalls in the middle of a second one.
        let b = body(&[
            Part::Text("csrf", TOKEN),
            Part::File("f", "a.pdf", &pdf(5_000)),
            Part::File("f", "b.pdf", &pdf(50_000)),
        ]);
        let head = Bytes::copy_from_slice(&b[..b.len() - 20_000]);
        let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(head)])
            .chain(futures_util::stream::pending());
        let mp = multipart(Body::from_stream(stream)).await;
        let limits = limits();
        let reading = read_form(store.clone(), mp, &limits, |t| t == TOKEN);
        assert!(tokio::time::timeout(Duration::from_millis(300), reading)
            .await
            .is_err());
        // The first file was stored (the second one's temp file went with its
        // writer); the cleanup task has not run yet on this single thread.
        assert_eq!(files_under(&dir.0.join("blobs")).len(), 1);
        // The background cleanup removes it.
        for _ in 0..100 {
            if files_under(&dir.0.join("blobs")).is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("left: {:?}", files_under(&dir.0.join("blobs")));
    }

    #[test]
    fn trickling_uploads_are_too_slow() {
        let secs = Duration::from_secs;
        // The field notes' attack: one byte every 29 s.
        assert!(too_slow(2, secs(58)));
        // A slow 2G phone: 10 KB/s.
        assert!(!too_slow(600_000, secs(60)));
        // Any rate during the first seconds (TCP slow start, a busy school Wi-Fi).
        assert!(!too_slow(10, secs(20)));
        assert!(too_slow(20_000, secs(31)));
    }

    #[test]
    fn file_names() {
        let long = format!("{}.docx", "a".repeat(200));
        let cases = [
            ("devoir.pdf", "devoir.pdf"),
            ("/etc/passwd", "passwd"),
            ("C:\\Users\\Léa\\Mes documents\\exposé.odt", "exposé.odt"),
            ("../../..", "fichier"),
            ("", "fichier"),
            ("   ", "fichier"),
            ("a\u{0}b\r\nc\u{7f}.txt", "abc.txt"),
            ("photo\u{202E}gnp.exe", "photognp.exe"),
            ("\u{200B}\u{FEFF}", "fichier"),
            ("  rapport final .pdf  ", "rapport final .pdf"),
        ];
        for (raw, expected) in cases {
            assert_eq!(sanitize_file_name(raw), expected, "{raw:?}");
        }
        let short = sanitize_file_name(&long);
        assert_eq!(short.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(short.ends_with("aaa.docx"));
        let no_ext = sanitize_file_name(&"é".repeat(300));
        assert_eq!(no_ext.chars().count(), MAX_FILE_NAME_CHARS);
    }

    #[test]
    fn errors_become_pages_with_codes() {
        let cases: Vec<(UploadError, StatusCode, &str)> = vec![
            (UploadError::Csrf, StatusCode::FORBIDDEN, "csrf"),
            (
                UploadError::Blob(BlobError::TooLarge { limit: 10 << 20 }),
                StatusCode::BAD_REQUEST,
                "upload.too_large",
            ),
            (
                UploadError::Blob(BlobError::TypeNotAllowed {
                    detected: "text/html".into(),
                }),
                StatusCode::BAD_REQUEST,
                "upload.type",
            ),
            (
                UploadError::Blob(BlobError::Empty),
                StatusCode::BAD_REQUEST,
                "upload.empty",
            ),
            (
                UploadError::TooManyFiles { max: 5 },
                StatusCode::BAD_REQUEST,
                "upload.too_many",
            ),
            (
                UploadError::TotalTooLarge { limit: 25 << 20 },
                StatusCode::BAD_REQUEST,
                "upload.too_large",
            ),
            (
                UploadError::Interrupted,
                StatusCode::BAD_REQUEST,
                "upload.interrupted",
            ),
            (
                UploadError::BadForm("x".into()),
                StatusCode::BAD_REQUEST,
                "bad_form",
            ),
            (
                UploadError::Blob(BlobError::Io(std::io::Error::other("disk full"))),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
        ];
        for (e, status, code) in cases {
            let resp = WebError::from(e).into_response();
            assert_eq!(resp.status(), status, "{code}");
            assert_eq!(resp.headers()["x-cartable-error"], code);
        }
        assert_eq!(
            UploadError::TotalTooLarge { limit: 25 << 20 }.message_fr(),
            "L'ensemble des fichiers dépasse 25 Mo : envoyez-en moins à la fois. Rien n'a été enregistré."
        );
        assert!(limits().body_limit() > 150_000);
    }
}
