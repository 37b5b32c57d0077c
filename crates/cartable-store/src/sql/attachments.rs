//! Attachments of messages, news and notes: one table, keyed by owner.

use std::collections::HashMap;

use cartable_domain::SchoolId;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::{AttachmentRow, NewAttachment, StoreResult};

pub(super) async fn insert(
    tx: &mut Transaction<'static, Any>,
    school: SchoolId,
    owner_kind: &str,
    owner_id: i64,
    files: &[NewAttachment],
    now: i64,
) -> StoreResult<()> {
    for f in files {
        sqlx::query(
            "INSERT INTO attachments (school_id, owner_kind, owner_id, blob_key, file_name, content_type, size, sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(school.0)
        .bind(owner_kind)
        .bind(owner_id)
        .bind(&f.blob_key)
        .bind(&f.file_name)
        .bind(&f.content_type)
        .bind(f.size)
        .bind(&f.sha256)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(super) const COLUMNS: &str =
    "id, owner_kind, owner_id, blob_key, file_name, content_type, size, sha256";

pub(super) fn row(r: &AnyRow) -> StoreResult<AttachmentRow> {
    Ok(AttachmentRow {
        id: r.try_get("id")?,
        owner_kind: r.try_get("owner_kind")?,
        owner_id: r.try_get("owner_id")?,
        blob_key: r.try_get("blob_key")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
    })
}

/// Attachments of several owners of one kind, grouped by owner id.
pub(super) async fn for_owners(
    pool: &AnyPool,
    school: SchoolId,
    owner_kind: &str,
    owners: &[i64],
) -> StoreResult<HashMap<i64, Vec<AttachmentRow>>> {
    let mut out: HashMap<i64, Vec<AttachmentRow>> = HashMap::new();
    if owners.is_empty() {
        return Ok(out);
    }
    // Ids are integers from our own rows: safe to inline, and one query
    // instead of one per message.
    let list = owners
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM attachments WHERE school_id = $1 AND owner_kind = $2 AND owner_id IN ({list}) ORDER BY id"
    ))
    .bind(school.0)
    .bind(owner_kind)
    .fetch_all(pool)
    .await?;
    for r in &rows {
        let a = row(r)?;
        out.entry(a.owner_id).or_default().push(a);
    }
    Ok(out)
}

/// A row that carries the attachments of one owner kind.
pub(super) trait HasFiles {
    const KIND: &'static str;
    fn owner_id(&self) -> i64;
    fn files_mut(&mut self) -> &mut Vec<AttachmentRow>;
}

macro_rules! has_files {
    ($ty:ty, $kind:expr, $field:ident) => {
        impl HasFiles for $ty {
            const KIND: &'static str = $kind;
            fn owner_id(&self) -> i64 {
                self.id
            }
            fn files_mut(&mut self) -> &mut Vec<AttachmentRow> {
                &mut self.$field
            }
        }
    };
}

has_files!(crate::LessonRow, "lesson", attachments);
has_files!(crate::NoteRow, "note", attachments);
has_files!(crate::NewsRow, "news", attachments);
has_files!(crate::AssignmentRow, "assignment", attachments);
has_files!(crate::SubmissionRow, "submission", files);

/// Fills in the attachments of rows, in one query for all of them.
pub(super) async fn fill<T: HasFiles>(
    pool: &AnyPool,
    school: SchoolId,
    mut items: Vec<T>,
) -> StoreResult<Vec<T>> {
    let ids: Vec<i64> = items.iter().map(HasFiles::owner_id).collect();
    let mut files = for_owners(pool, school, T::KIND, &ids).await?;
    for item in &mut items {
        *item.files_mut() = files.remove(&item.owner_id()).unwrap_or_default();
    }
    Ok(items)
}
