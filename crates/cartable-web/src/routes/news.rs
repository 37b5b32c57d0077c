//! School news: the list a person's audience sees, and the staff's form.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use cartable_app::news::NewsDraft;
use cartable_app::AppError;
use cartable_domain::calendar::Day;
use cartable_domain::messaging::NewsAudience;
use cartable_domain::policy::{can, Action, Resource};
use cartable_domain::ClassId;
use cartable_store::{ClassSummary, NewsRow};

use super::messages::{attachment_limits, attachments_of, discard, field, refusal};
use super::{authorize, parse_id, render, school_of, Empty};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{WebError, WebResult};
use crate::extract::{Client, CurrentUser};
use crate::layout::Layout;
use crate::state::AppState;
use crate::upload::read_upload_form;

pub struct NewsCard {
    pub news: NewsRow,
    pub when: String,
    pub window: String,
    pub audience: &'static str,
}

pub fn cards(items: Vec<NewsRow>, now: i64) -> Vec<NewsCard> {
    items
        .into_iter()
        .map(|n| {
            let audience =
                NewsAudience::from_code(&n.audience, n.classes.iter().copied().collect())
                    .map(|a| a.label_fr())
                    .unwrap_or("");
            let window = if n.publish_from > now {
                format!(
                    "programmée pour le {}",
                    super::admin::french_date(n.publish_from)
                )
            } else {
                match n.publish_until {
                    Some(u) if u <= now => "expirée".to_string(),
                    Some(u) => format!("jusqu'au {}", super::admin::french_date(u)),
                    None => String::new(),
                }
            };
            NewsCard {
                when: super::admin::french_date(n.publish_from),
                window,
                audience,
                news: n,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "news_list.html")]
struct NewsPage {
    layout: Layout,
    items: Vec<NewsCard>,
    may_publish: bool,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    let items = state.app.news_for(&session.actor, 100).await?;
    let page = NewsPage {
        layout: Layout::signed_in("Actualités", &csrf, &session),
        items: cards(items, state.app.now()),
        may_publish: can(
            &session.actor,
            Action::PublishNews,
            Resource::School(school),
        ),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "news_item.html")]
struct NewsItemPage {
    layout: Layout,
    card: NewsCard,
    may_delete: bool,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    let id = parse_id(&id)?;
    let item = state.app.news_item_for(&session.actor, id).await?;
    let page = NewsItemPage {
        layout: Layout::signed_in(item.title.clone(), &csrf, &session),
        card: cards(vec![item], state.app.now()).remove(0),
        may_delete: can(
            &session.actor,
            Action::PublishNews,
            Resource::School(school),
        ),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "news_new.html")]
struct NewsFormPage {
    layout: Layout,
    classes: Vec<ClassSummary>,
    error: Option<String>,
    title: String,
    body: String,
}

async fn news_form(
    state: &AppState,
    session: &cartable_app::auth::CurrentSession,
    csrf: &str,
    error: Option<String>,
    title: String,
    body: String,
) -> WebResult<NewsFormPage> {
    let school = school_of(&session.actor)?;
    Ok(NewsFormPage {
        layout: Layout::signed_in("Publier une actualité", csrf, session),
        classes: state.app.store.classes(school).await?,
        error,
        title,
        body,
    })
}

pub async fn new_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    authorize(
        &session.actor,
        Action::PublishNews,
        Resource::School(school),
    )?;
    let page = news_form(&state, &session, &csrf, None, String::new(), String::new()).await?;
    Ok(render(&page)?.into_response())
}

/// `aaaa-mm-jj` (what `<input type="date">` sends) to Unix seconds at 00:00 UTC.
pub fn parse_date(raw: &str) -> Result<Option<i64>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || {
        AppError::invalid(
            "date.invalid",
            format!(
                "Date invalide « {} » (attendu jj/mm/aaaa).",
                raw.chars().take(20).collect::<String>()
            ),
        )
    };
    // Midnight UTC of that day, as the windows have always been stored.
    Day::parse(raw).map(|d| Some(d.0 * 86_400)).ok_or_else(bad)
}

pub async fn publish(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    parts: Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    authorize(
        &session.actor,
        Action::PublishNews,
        Resource::School(school),
    )?;
    let multipart = multipart.map_err(|_| {
        WebError::BadForm("Formulaire illisible : rechargez la page et recommencez.".into())
    })?;
    let form = read_upload_form(
        &state,
        &parts,
        multipart,
        &attachment_limits(&state.app.config),
    )
    .await?;
    let result = async {
        let classes: BTreeSet<ClassId> = form
            .fields
            .iter()
            .filter(|(k, _)| k == "classe")
            .filter_map(|(_, v)| v.parse().ok().map(ClassId))
            .collect();
        let audience = NewsAudience::from_code(field(&form, "public"), classes).ok_or_else(|| {
            AppError::invalid("news.audience", "Choisissez à qui s'adresse l'actualité (et au moins une classe pour « Des classes »).")
        })?;
        let from = parse_date(field(&form, "debut"))?;
        // The end date is inclusive: visible until the end of that day.
        let until = parse_date(field(&form, "fin"))?.map(|d| d + 86_400);
        let draft = NewsDraft {
            title: field(&form, "titre").to_string(),
            body: field(&form, "texte").to_string(),
            audience,
            publish_from: from,
            publish_until: until,
            attachments: attachments_of(&form),
        };
        state.app.publish_news(&session.actor, draft, &client).await
    }
    .await;
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/actualites/{id}")).into_response()),
        Err(e) => {
            discard(&state, &form).await;
            match e {
                AppError::Invalid { .. } => {
                    let page = news_form(
                        &state,
                        &session,
                        &csrf,
                        Some(e.message_fr()),
                        field(&form, "titre").into(),
                        field(&form, "texte").into(),
                    )
                    .await?;
                    Ok(refusal(&e, render(&page)?))
                }
                other => Err(other.into()),
            }
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    state.app.delete_news(&session.actor, id, &client).await?;
    Ok(Redirect::to("/actualites").into_response())
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("").unwrap(), None);
        assert_eq!(parse_date("2026-09-01").unwrap(), Some(1_788_220_800));
        assert_eq!(parse_date("01/09/2026").unwrap(), Some(1_788_220_800));
        assert_eq!(
            super::super::admin::french_date(parse_date("29/02/2028").unwrap().unwrap()),
            "29/02/2028"
        );
        assert!(parse_date("31/02/2026").is_err());
    }
}
