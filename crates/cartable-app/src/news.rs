//! School news (actualités): published by the staff to an audience, with an
//! optional publication window, shown on each home page it concerns.

use std::collections::BTreeSet;
use std::sync::Arc;

use cartable_domain::messaging::{in_news_audience, NewsAudience};
use cartable_domain::policy::{can, Action, Actor, Resource};
use cartable_domain::{ClassId, Role, SchoolId};
use cartable_store::{NewAttachment, NewNews, NewsRow};

use crate::auth::ClientInfo;
use crate::messaging::{clean_title, render_body};
use crate::school_facts::NEWS_KEPT;
use crate::{App, AppError};

pub const MAX_TITLE_CHARS: usize = 150;

/// News to publish, as typed.
#[derive(Debug, Clone)]
pub struct NewsDraft {
    pub title: String,
    pub body: String,
    pub audience: NewsAudience,
    /// Unix seconds; `None` means now.
    pub publish_from: Option<i64>,
    pub publish_until: Option<i64>,
    pub attachments: Vec<NewAttachment>,
}

fn audience_of(row: &NewsRow) -> NewsAudience {
    let classes: BTreeSet<ClassId> = row.classes.iter().copied().collect();
    NewsAudience::from_code(&row.audience, classes).unwrap_or(NewsAudience::Staff)
}

impl App {
    pub async fn publish_news(
        &self,
        actor: &Actor,
        draft: NewsDraft,
        client: &ClientInfo,
    ) -> Result<i64, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        if !can(actor, Action::PublishNews, Resource::School(school)) {
            return Err(AppError::Forbidden);
        }
        let title = clean_title(&draft.title, "le titre", MAX_TITLE_CHARS)?;
        let (body_md, body_html) = render_body(&draft.body)?;
        let now = self.now();
        let from = draft.publish_from.unwrap_or(now);
        if let Some(until) = draft.publish_until {
            if until <= from {
                return Err(AppError::invalid(
                    "news.window",
                    "La date de fin de publication doit suivre la date de début.",
                ));
            }
        }
        let classes: Vec<ClassId> = match &draft.audience {
            NewsAudience::Classes(c) => c.iter().copied().collect(),
            _ => Vec::new(),
        };
        for class in &classes {
            self.store
                .class(school, *class)
                .await?
                .ok_or(AppError::NotFound)?;
        }
        let id = self
            .store
            .create_news(&NewNews {
                school_id: school,
                author_id: actor.user_id,
                title: title.clone(),
                body_md,
                body_html,
                audience: draft.audience.code().to_string(),
                classes,
                publish_from: from,
                publish_until: draft.publish_until,
                attachments: draft.attachments,
                now,
            })
            .await?;
        self.facts.forget_news(school);
        self.audit(
            Some(school),
            "news.published",
            Some(title),
            client,
            Some(actor.user_id),
        )
        .await;
        Ok(id)
    }

    /// The news `actor` should see now, newest first. Staff see every item of
    /// their school, scheduled and expired ones included, to manage them.
    pub async fn news_for(&self, actor: &Actor, limit: i64) -> Result<Vec<NewsRow>, AppError> {
        let Some(school) = actor.school_id else {
            return Ok(Vec::new());
        };
        let managing = matches!(actor.role, Role::Staff | Role::SchoolAdmin);
        let wanted = limit.max(1) * 4;
        let now = self.now();
        // A reader's few latest items come from this node's memory of the
        // school's news (dropping those that expired since it was read);
        // staff's list, with scheduled and expired items, and long lists
        // from the database.
        let rows = if managing || wanted > NEWS_KEPT {
            Arc::new(
                self.store
                    .school_news(school, now, managing, wanted)
                    .await?,
            )
        } else {
            self.news_remembered(school).await?
        };
        Ok(rows
            .iter()
            .filter(|n| managing || n.publish_until.is_none_or(|u| u > now))
            .filter(|n| in_news_audience(actor, &audience_of(n)))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    pub(crate) async fn may_read_news(&self, actor: &Actor, id: i64) -> Result<bool, AppError> {
        let Some(school) = actor.school_id else {
            return Ok(false);
        };
        let Some(n) = self.store.news_item(school, id).await? else {
            return Ok(false);
        };
        let now = self.now();
        let published = n.publish_from <= now && n.publish_until.is_none_or(|u| u > now);
        let managing = matches!(actor.role, Role::Staff | Role::SchoolAdmin);
        Ok((published || managing) && in_news_audience(actor, &audience_of(&n)))
    }

    pub async fn news_item_for(&self, actor: &Actor, id: i64) -> Result<NewsRow, AppError> {
        let school: SchoolId = actor.school_id.ok_or(AppError::NotFound)?;
        if !self.may_read_news(actor, id).await? {
            return Err(AppError::NotFound);
        }
        self.store
            .news_item(school, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    pub async fn delete_news(
        &self,
        actor: &Actor,
        id: i64,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        if !can(actor, Action::PublishNews, Resource::School(school)) {
            return Err(AppError::Forbidden);
        }
        if !self.store.delete_news(school, id).await? {
            return Err(AppError::NotFound);
        }
        self.facts.forget_news(school);
        self.audit(
            Some(school),
            "news.deleted",
            Some(id.to_string()),
            client,
            Some(actor.user_id),
        )
        .await;
        Ok(())
    }
}
