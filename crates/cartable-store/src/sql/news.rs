use std::collections::HashMap;

use async_trait::async_trait;
use cartable_domain::{ClassId, SchoolId, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{attachments, SqlStore};
use crate::{NewNews, NewsRepo, NewsRow, StoreResult};

const NEWS_COLUMNS: &str =
    "n.id, n.author_id, u.first_name, u.last_name, n.title, n.body_html, n.audience, \
     n.publish_from, n.publish_until";

fn news_row(r: &AnyRow) -> StoreResult<NewsRow> {
    Ok(NewsRow {
        id: r.try_get("id")?,
        author_id: UserId(r.try_get("author_id")?),
        author_name: format!(
            "{} {}",
            r.try_get::<String, _>("first_name")?,
            r.try_get::<String, _>("last_name")?
        ),
        title: r.try_get("title")?,
        body_html: r.try_get("body_html")?,
        audience: r.try_get("audience")?,
        classes: Vec::new(),
        publish_from: r.try_get("publish_from")?,
        publish_until: r.try_get("publish_until")?,
        attachments: Vec::new(),
    })
}

impl SqlStore {
    /// Fills in the classes and attachments of news rows.
    async fn complete_news(
        &self,
        school: SchoolId,
        mut items: Vec<NewsRow>,
    ) -> StoreResult<Vec<NewsRow>> {
        let ids: Vec<i64> = items.iter().map(|n| n.id).collect();
        if ids.is_empty() {
            return Ok(items);
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let mut classes: HashMap<i64, Vec<ClassId>> = HashMap::new();
        for r in sqlx::query(&format!(
            "SELECT news_id, class_id FROM news_classes WHERE school_id = $1 AND news_id IN ({list}) ORDER BY class_id"
        ))
        .bind(school.0)
        .fetch_all(&self.pool)
        .await?
        {
            classes
                .entry(r.try_get("news_id")?)
                .or_default()
                .push(ClassId(r.try_get("class_id")?));
        }
        for n in &mut items {
            n.classes = classes.remove(&n.id).unwrap_or_default();
        }
        attachments::fill(&self.pool, school, items).await
    }
}

#[async_trait]
impl NewsRepo for SqlStore {
    async fn create_news(&self, n: &NewNews) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO news (school_id, author_id, title, body_md, body_html, audience, publish_from, publish_until, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(n.school_id.0)
        .bind(n.author_id.0)
        .bind(&n.title)
        .bind(&n.body_md)
        .bind(&n.body_html)
        .bind(&n.audience)
        .bind(n.publish_from)
        .bind(n.publish_until)
        .bind(n.now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        for class in &n.classes {
            let found =
                sqlx::query("SELECT 1 AS one FROM classes WHERE id = $1 AND school_id = $2")
                    .bind(class.0)
                    .bind(n.school_id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            if found.is_none() {
                return Err(crate::StoreError::NotFound(format!("class #{class}")));
            }
            sqlx::query("INSERT INTO news_classes (news_id, class_id, school_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(class.0)
                .bind(n.school_id.0)
                .execute(&mut *tx)
                .await?;
        }
        attachments::insert(&mut tx, n.school_id, "news", id, &n.attachments, n.now).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn school_news(
        &self,
        school: SchoolId,
        now: i64,
        all: bool,
        limit: i64,
    ) -> StoreResult<Vec<NewsRow>> {
        let window = if all {
            ""
        } else {
            " AND n.publish_from <= $2 AND (n.publish_until IS NULL OR n.publish_until > $2)"
        };
        let sql = format!(
            "SELECT {NEWS_COLUMNS} FROM news n JOIN users u ON u.id = n.author_id \
             WHERE n.school_id = $1{window} ORDER BY n.publish_from DESC, n.id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(school.0)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let items = rows.iter().map(news_row).collect::<StoreResult<Vec<_>>>()?;
        self.complete_news(school, items).await
    }

    async fn news_item(&self, school: SchoolId, id: i64) -> StoreResult<Option<NewsRow>> {
        let row = sqlx::query(&format!(
            "SELECT {NEWS_COLUMNS} FROM news n JOIN users u ON u.id = n.author_id WHERE n.school_id = $1 AND n.id = $2"
        ))
        .bind(school.0)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(self.complete_news(school, vec![news_row(&r)?]).await?.pop()),
            None => Ok(None),
        }
    }

    async fn delete_news(&self, school: SchoolId, id: i64) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM news_classes WHERE news_id = $1 AND school_id = $2")
            .bind(id)
            .bind(school.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM attachments WHERE owner_kind = 'news' AND owner_id = $1 AND school_id = $2")
            .bind(id)
            .bind(school.0)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM news WHERE id = $1 AND school_id = $2")
            .bind(id)
            .bind(school.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
