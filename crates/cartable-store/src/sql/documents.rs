//! Folders of documents; the files themselves are `attachments` rows.

use async_trait::async_trait;
use cartable_domain::{ClassId, SchoolId, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{attachments, SqlStore};
use crate::{AttachmentRow, DocumentRepo, FolderRow, NewAttachment, StoreError, StoreResult};

const FOLDER_COLUMNS: &str = "id, class_id, owner_id, parent_id, name";

fn folder_row(r: &AnyRow) -> StoreResult<FolderRow> {
    Ok(FolderRow {
        id: r.try_get("id")?,
        class_id: r.try_get::<Option<i64>, _>("class_id")?.map(ClassId),
        owner_id: r.try_get::<Option<i64>, _>("owner_id")?.map(UserId),
        parent_id: r.try_get("parent_id")?,
        name: r.try_get("name")?,
    })
}

#[async_trait]
impl DocumentRepo for SqlStore {
    async fn class_root_folder(
        &self,
        school: SchoolId,
        class: ClassId,
        by: UserId,
        now: i64,
    ) -> StoreResult<FolderRow> {
        let mut tx = self.begin_write().await?;
        let found = sqlx::query(&format!(
            "SELECT {FOLDER_COLUMNS} FROM folders WHERE school_id = $1 AND class_id = $2 AND parent_id IS NULL"
        ))
        .bind(school.0)
        .bind(class.0)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = found {
            return folder_row(&r);
        }
        let class_name: String =
            sqlx::query("SELECT name FROM classes WHERE id = $1 AND school_id = $2")
                .bind(class.0)
                .bind(school.0)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("class #{class}")))?
                .try_get("name")?;
        let row = sqlx::query(&format!(
            "INSERT INTO folders (school_id, class_id, name, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING {FOLDER_COLUMNS}"
        ))
        .bind(school.0)
        .bind(class.0)
        .bind(format!("Documents de {class_name}"))
        .bind(by.0)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        folder_row(&row)
    }

    async fn personal_root_folder(
        &self,
        school: SchoolId,
        owner: UserId,
        now: i64,
    ) -> StoreResult<FolderRow> {
        let mut tx = self.begin_write().await?;
        let found = sqlx::query(&format!(
            "SELECT {FOLDER_COLUMNS} FROM folders WHERE school_id = $1 AND owner_id = $2 AND parent_id IS NULL"
        ))
        .bind(school.0)
        .bind(owner.0)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = found {
            return folder_row(&r);
        }
        let row = sqlx::query(&format!(
            "INSERT INTO folders (school_id, owner_id, name, created_by, created_at) VALUES ($1, $2, 'Mon espace', $2, $3) \
             RETURNING {FOLDER_COLUMNS}"
        ))
        .bind(school.0)
        .bind(owner.0)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        folder_row(&row)
    }

    async fn folder(&self, school: SchoolId, id: i64) -> StoreResult<Option<FolderRow>> {
        let row = sqlx::query(&format!(
            "SELECT {FOLDER_COLUMNS} FROM folders WHERE school_id = $1 AND id = $2"
        ))
        .bind(school.0)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(folder_row).transpose()
    }

    async fn subfolders(&self, school: SchoolId, id: i64) -> StoreResult<Vec<FolderRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {FOLDER_COLUMNS} FROM folders WHERE school_id = $1 AND parent_id = $2 ORDER BY name, id"
        ))
        .bind(school.0)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(folder_row).collect()
    }

    async fn create_folder(
        &self,
        school: SchoolId,
        parent: i64,
        name: &str,
        by: UserId,
        now: i64,
    ) -> StoreResult<i64> {
        // The new folder belongs to the same space as its parent.
        let row = sqlx::query(
            "INSERT INTO folders (school_id, class_id, owner_id, parent_id, name, created_by, created_at) \
             SELECT p.school_id, p.class_id, p.owner_id, p.id, $3, $4, $5 FROM folders p WHERE p.id = $2 AND p.school_id = $1 \
             RETURNING id",
        )
        .bind(school.0)
        .bind(parent)
        .bind(name)
        .bind(by.0)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?;
        match row {
            Some(r) => Ok(r.try_get("id")?),
            None => Err(StoreError::NotFound(format!("folder #{parent}"))),
        }
    }

    async fn add_folder_files(
        &self,
        school: SchoolId,
        folder: i64,
        files: &[NewAttachment],
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let found = sqlx::query("SELECT 1 AS one FROM folders WHERE id = $1 AND school_id = $2")
            .bind(folder)
            .bind(school.0)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(StoreError::NotFound(format!("folder #{folder}")));
        }
        attachments::insert(&mut tx, school, "folder", folder, files, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn folder_files(&self, school: SchoolId, folder: i64) -> StoreResult<Vec<AttachmentRow>> {
        let mut files = attachments::for_owners(&self.pool, school, "folder", &[folder]).await?;
        let mut list = files.remove(&folder).unwrap_or_default();
        list.sort_by_key(|a| a.file_name.to_lowercase());
        Ok(list)
    }

    async fn delete_folder_file(
        &self,
        school: SchoolId,
        folder: i64,
        attachment: i64,
    ) -> StoreResult<Option<String>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT blob_key FROM attachments WHERE id = $1 AND school_id = $2 AND owner_kind = 'folder' AND owner_id = $3",
        )
        .bind(attachment)
        .bind(school.0)
        .bind(folder)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let key: String = r.try_get("blob_key")?;
        sqlx::query("DELETE FROM attachments WHERE id = $1 AND school_id = $2")
            .bind(attachment)
            .bind(school.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(key))
    }

    async fn personal_usage(&self, school: SchoolId, owner: UserId) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(a.size), 0) AS BIGINT) AS used FROM attachments a JOIN folders f ON f.id = a.owner_id \
             WHERE a.owner_kind = 'folder' AND f.school_id = $1 AND f.owner_id = $2",
        )
        .bind(school.0)
        .bind(owner.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("used")?)
    }
}
