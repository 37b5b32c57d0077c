//! The sweep of stored files no row points to (issue 3: an interrupted upload
//! "leaves no orphan file").
//!
//! A file is written and made durable first, then its row is committed; the
//! handlers delete the file when the commit fails. A process killed between
//! the two (SIGKILL, power loss) leaves a file no row names, and one killed
//! while writing leaves a temp file. Nothing else can tell those apart from
//! an upload still in flight but their age: the sweep only touches files not
//! written for `min_age` (an hour by default, far beyond any request), and
//! asks the store about them after listing them, so a row committed before
//! the listing always keeps its file.

use std::time::Duration;

use cartable_store::AuditEvent;

use crate::blobs::{BlobError, BlobStore};
use crate::{App, AppError};

/// Files younger than this are never swept: an upload in progress or a row
/// about to commit.
pub const DEFAULT_MIN_AGE: Duration = Duration::from_secs(3600);
/// How often `cartable serve` sweeps.
pub const SWEEP_EVERY: Duration = Duration::from_secs(6 * 3600);
/// Files listed (and keys asked to the store) per round.
const PAGE: usize = 1000;

/// What a sweep found and did. In a dry run nothing is removed and the
/// `*_removed` counts stay 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Stored files looked at.
    pub scanned: u64,
    /// Files younger than the minimum age, left alone whatever they are.
    pub too_recent: u64,
    /// Files old enough that no row references.
    pub orphans: u64,
    pub orphans_removed: u64,
    /// Unfinished uploads (temp files) old enough.
    pub temp_files: u64,
    pub temp_removed: u64,
    /// Bytes of the orphans and temp files found (freed unless a dry run).
    pub bytes: u64,
    /// Bytes actually freed.
    pub bytes_freed: u64,
    /// Removals that failed (logged); the next sweep tries again.
    pub failures: u64,
}

impl SweepReport {
    pub fn removed(&self) -> u64 {
        self.orphans_removed + self.temp_removed
    }
}

fn blob_error(e: BlobError) -> AppError {
    AppError::Internal(format!("blob store: {e}"))
}

impl App {
    /// Removes stored files older than `min_age` that no row references, and
    /// unfinished uploads older than `min_age`. Writes one audit event when
    /// something was removed.
    pub async fn sweep_orphan_blobs(&self, min_age: Duration) -> Result<SweepReport, AppError> {
        self.sweep_blobs(min_age, false, PAGE).await
    }

    /// Sweeps after `first`, then every `every`, forever (the server spawns
    /// this and aborts it at shutdown). A failed sweep is logged and retried
    /// at the next round.
    pub async fn sweep_blobs_periodically(
        self,
        first: Duration,
        every: Duration,
        min_age: Duration,
    ) {
        tokio::time::sleep(first).await;
        let mut rounds = tokio::time::interval(every);
        rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            rounds.tick().await;
            if let Err(e) = self.sweep_orphan_blobs(min_age).await {
                tracing::warn!(error = %e, "blob sweep failed; next round in {} s", every.as_secs());
            }
        }
    }

    /// What [`App::sweep_orphan_blobs`] would remove, removing nothing.
    pub async fn find_orphan_blobs(&self, min_age: Duration) -> Result<SweepReport, AppError> {
        self.sweep_blobs(min_age, true, PAGE).await
    }

    async fn sweep_blobs(
        &self,
        min_age: Duration,
        dry_run: bool,
        page_size: usize,
    ) -> Result<SweepReport, AppError> {
        let now = self.now();
        let cutoff = now.saturating_sub(i64::try_from(min_age.as_secs()).unwrap_or(i64::MAX));
        let blobs: &dyn BlobStore = self.blobs.as_ref();
        let mut report = SweepReport::default();

        let mut after: Option<String> = None;
        loop {
            let page = blobs
                .list(after.as_deref(), page_size)
                .await
                .map_err(blob_error)?;
            report.scanned += page.blobs.len() as u64;
            let (old, recent): (Vec<_>, Vec<_>) =
                page.blobs.into_iter().partition(|b| b.modified <= cutoff);
            report.too_recent += recent.len() as u64;
            let keys: Vec<String> = old.iter().map(|b| b.key.clone()).collect();
            let referenced = self.store.referenced_blob_keys(&keys).await?;
            for blob in old.into_iter().filter(|b| !referenced.contains(&b.key)) {
                report.orphans += 1;
                report.bytes += blob.size;
                if dry_run {
                    continue;
                }
                match blobs.delete(&blob.key).await {
                    Ok(()) => {
                        report.orphans_removed += 1;
                        report.bytes_freed += blob.size;
                    }
                    // Removed meanwhile (a handler cleaning up): gone is gone.
                    Err(BlobError::NotFound) => {}
                    Err(e) => {
                        report.failures += 1;
                        tracing::warn!(error = %e, key = %blob.key, "could not remove an orphan file");
                    }
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }

        for upload in blobs.partial_uploads().await.map_err(blob_error)? {
            if upload.modified > cutoff {
                continue;
            }
            report.temp_files += 1;
            report.bytes += upload.size;
            if dry_run {
                continue;
            }
            match blobs.remove_partial_upload(&upload.id).await {
                Ok(()) => {
                    report.temp_removed += 1;
                    report.bytes_freed += upload.size;
                }
                // Finished or abandoned meanwhile.
                Err(BlobError::NotFound) => {}
                Err(e) => {
                    report.failures += 1;
                    tracing::warn!(error = %e, id = %upload.id, "could not remove an unfinished upload");
                }
            }
        }

        tracing::info!(
            dry_run,
            min_age_secs = min_age.as_secs(),
            scanned = report.scanned,
            too_recent = report.too_recent,
            orphans = report.orphans,
            orphans_removed = report.orphans_removed,
            temp_files = report.temp_files,
            temp_removed = report.temp_removed,
            bytes_freed = report.bytes_freed,
            failures = report.failures,
            "blob sweep"
        );
        if report.removed() > 0 {
            let event = AuditEvent {
                school_id: None,
                actor_id: None,
                action: "blobs.swept".into(),
                target: None,
                ip: None,
                detail: Some(format!(
                    "fichiers orphelins supprimés : {}, envois inachevés supprimés : {}, octets libérés : {}",
                    report.orphans_removed, report.temp_removed, report.bytes_freed
                )),
                at: now,
            };
            if let Err(e) = self.store.audit(&event).await {
                tracing::warn!(error = %e, "audit write failed after a blob sweep");
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::time::SystemTime;

    use cartable_domain::names::PersonName;
    use cartable_domain::roster::{PersonRecord, RosterOp};
    use cartable_domain::{Role, SchoolId};
    use cartable_store::sql::{PoolSettings, SqlStore};
    use cartable_store::NewAttachment;

    use super::*;
    use crate::blobs::{BlobMeta, FsBlobStore};
    use crate::clock::{Clock, ManualClock, SystemClock};
    use crate::hashing::{HashCost, HashPool};
    use crate::AppConfig;

    const HOUR: u64 = 3600;

    struct Setup {
        _dir: tempfile::TempDir,
        app: App,
        clock: ManualClock,
        root: PathBuf,
        school: SchoolId,
        /// A pupil's own documents: where test rows point at files.
        folder: i64,
    }

    /// A real SQLite store and a real file store in a temp dir; the app's
    /// clock starts at the system's time (files get real mtimes).
    async fn setup() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("cartable.db").display());
        let store = SqlStore::connect(&url, &PoolSettings::default())
            .await
            .unwrap();
        let root = dir.path().join("files");
        let blobs = FsBlobStore::new(&root).unwrap();
        let clock = ManualClock::new(SystemClock.now());
        let app = App::new(
            Arc::new(store),
            HashPool::new(1, 4, HashCost::for_tests()),
            Arc::new(blobs),
            Arc::new(clock.clone()),
            AppConfig::default(),
        );
        let school = app
            .store
            .create_school("Collège", "0750001A", 1)
            .await
            .unwrap();
        let ops = vec![RosterOp::CreatePerson {
            role: Role::Pupil,
            person: PersonRecord {
                external_id: None,
                last_name: PersonName::parse("Martin").unwrap(),
                first_name: PersonName::parse("Zoé").unwrap(),
                birth_date: None,
                email: None,
            },
            subject: None,
        }];
        let pupil = app
            .store
            .apply_roster(school, &ops, 1)
            .await
            .unwrap()
            .created[0]
            .0;
        let folder = app
            .store
            .personal_root_folder(school, pupil, 1)
            .await
            .unwrap()
            .id;
        Setup {
            _dir: dir,
            app,
            clock,
            root,
            school,
            folder,
        }
    }

    async fn put(app: &App, content: &[u8]) -> BlobMeta {
        let mut w = app.blobs.create(1 << 20).await.unwrap();
        w.write(content).await.unwrap();
        w.finish().await.unwrap()
    }

    /// Makes a file look last written `secs` ago, instead of sleeping.
    fn age(path: &Path, secs: u64) {
        let when = SystemTime::now() - Duration::from_secs(secs);
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }

    /// A row pointing at the file: one in the pupil's own documents.
    async fn reference(s: &Setup, meta: &BlobMeta) {
        let file = NewAttachment {
            blob_key: meta.key.clone(),
            file_name: "devoir.txt".into(),
            content_type: meta.content_type.clone(),
            size: meta.size as i64,
            sha256: meta.sha256.clone(),
        };
        s.app
            .store
            .add_folder_files(s.school, s.folder, &[file], 2)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn only_old_unreferenced_files_and_old_temp_files_are_removed() {
        let s = setup().await;
        let referenced = put(&s.app, b"mon devoir, bien rendu").await;
        reference(&s, &referenced).await;
        let old_orphan = put(&s.app, b"le serveur est mort avant le commit").await;
        let fresh_orphan = put(&s.app, b"un envoi en train de finir").await;
        let old_temp = s.root.join("tmp").join("0badcafe.part");
        std::fs::write(&old_temp, b"coupe au milieu").unwrap();
        let fresh_temp = s.root.join("tmp").join("0123abcd.part");
        std::fs::write(&fresh_temp, b"en cours").unwrap();
        // Not the store's: never listed, never removed.
        let stray = s.root.join(&old_orphan.key[..5]).join("LISEZMOI.txt");
        std::fs::write(&stray, b"note d'un administrateur").unwrap();
        for path in [&s.root.join(&referenced.key), &s.root.join(&old_orphan.key)] {
            age(path, 2 * HOUR);
        }
        age(&old_temp, 2 * HOUR);
        age(&stray, 2 * HOUR);

        let found = s.app.find_orphan_blobs(DEFAULT_MIN_AGE).await.unwrap();
        let expected_bytes = old_orphan.size + "coupe au milieu".len() as u64;
        assert_eq!(
            found,
            SweepReport {
                scanned: 3,
                too_recent: 1,
                orphans: 1,
                temp_files: 1,
                bytes: expected_bytes,
                ..SweepReport::default()
            },
            "a dry run finds without removing"
        );
        assert!(s.root.join(&old_orphan.key).exists());
        assert!(old_temp.exists());

        let swept = s.app.sweep_orphan_blobs(DEFAULT_MIN_AGE).await.unwrap();
        assert_eq!(
            swept,
            SweepReport {
                orphans_removed: 1,
                temp_removed: 1,
                bytes_freed: expected_bytes,
                ..found
            }
        );
        assert!(!s.root.join(&old_orphan.key).exists());
        assert!(!old_temp.exists());
        assert_eq!(
            &s.app.blobs.read(&referenced.key).await.unwrap()[..],
            b"mon devoir, bien rendu",
            "a referenced file is kept, however old"
        );
        assert!(
            s.root.join(&fresh_orphan.key).exists(),
            "too recent to judge"
        );
        assert!(fresh_temp.exists(), "an upload may be in progress");
        assert!(stray.exists());

        let log = s.app.store.platform_audit_log(10).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].action, "blobs.swept");
        assert_eq!(log[0].at, s.clock.now());
        assert!(
            log[0]
                .detail
                .as_deref()
                .unwrap()
                .starts_with("fichiers orphelins supprimés : 1, envois inachevés supprimés : 1"),
            "{:?}",
            log[0].detail
        );

        // Nothing left to remove: no second audit event.
        let again = s.app.sweep_orphan_blobs(DEFAULT_MIN_AGE).await.unwrap();
        assert_eq!(again.removed(), 0);
        assert_eq!(again.scanned, 2);
        assert_eq!(s.app.store.platform_audit_log(10).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn age_is_measured_on_the_app_clock() {
        let s = setup().await;
        let orphan = put(&s.app, b"sans ligne").await;
        // Written exactly at the clock's "now" (the real write may fall in
        // the next second, which would make the boundary below flaky).
        std::fs::File::options()
            .write(true)
            .open(s.root.join(&orphan.key))
            .unwrap()
            .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(s.clock.now() as u64))
            .unwrap();
        let report = s.app.sweep_orphan_blobs(DEFAULT_MIN_AGE).await.unwrap();
        assert_eq!((report.too_recent, report.removed()), (1, 0));
        s.clock.advance(HOUR as i64 - 1);
        let report = s.app.sweep_orphan_blobs(DEFAULT_MIN_AGE).await.unwrap();
        assert_eq!(report.removed(), 0, "59 min 59 s is still too recent");
        s.clock.advance(1);
        let report = s.app.sweep_orphan_blobs(DEFAULT_MIN_AGE).await.unwrap();
        assert_eq!(report.orphans_removed, 1);
        assert!(!s.root.join(&orphan.key).exists());
    }

    #[tokio::test]
    async fn every_page_of_the_listing_is_swept() {
        let s = setup().await;
        let mut kept = Vec::new();
        let mut orphans = Vec::new();
        for i in 0..11u8 {
            let meta = put(&s.app, &[b'a' + i; 20]).await;
            if i % 3 == 0 {
                reference(&s, &meta).await;
                kept.push(meta);
            } else {
                orphans.push(meta);
            }
        }
        s.clock.advance(2 * HOUR as i64);
        let report = s.app.sweep_blobs(DEFAULT_MIN_AGE, false, 3).await.unwrap();
        assert_eq!(report.scanned, 11);
        assert_eq!(report.orphans_removed, orphans.len() as u64);
        assert_eq!(report.bytes_freed, 20 * orphans.len() as u64);
        for m in &orphans {
            assert!(!s.root.join(&m.key).exists());
        }
        for m in &kept {
            assert!(s.root.join(&m.key).exists());
        }
    }
}
