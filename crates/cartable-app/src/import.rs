//! Roster import, as a school admin does it: upload, read the preview (what
//! will be created, updated, left alone, rejected and why), then apply. The
//! file is kept as a draft between the two steps; applying re-reads it against
//! the school as it is then, and writes everything in one transaction.

use cartable_domain::policy::{can, Action, Actor, Resource};
use cartable_domain::roster::{RosterApplied, RosterKind, RosterPlan};
use cartable_domain::SchoolId;
use cartable_store::ImportDraft;

use crate::auth::ClientInfo;
use crate::{App, AppError};

pub use cartable_roster::MAX_BYTES as MAX_IMPORT_BYTES;

/// A file read and planned, not yet applied.
#[derive(Debug, Clone)]
pub struct ImportPreview {
    pub draft_id: i64,
    pub file_name: String,
    pub plan: RosterPlan,
}

impl App {
    /// Reads a file and plans it against the school (no policy: callers check).
    pub async fn plan_roster(
        &self,
        school: SchoolId,
        bytes: &[u8],
        kind: Option<RosterKind>,
    ) -> Result<RosterPlan, AppError> {
        if bytes.len() > MAX_IMPORT_BYTES {
            return Err(AppError::invalid(
                "roster.too_large",
                format!(
                    "Le fichier dépasse {} Mo.",
                    MAX_IMPORT_BYTES / (1024 * 1024)
                ),
            ));
        }
        // Reading 20,000 lines is tens of milliseconds of CPU: keep it off the
        // async workers that serve everyone else.
        let owned = bytes.to_vec();
        let parsed =
            tokio::task::spawn_blocking(move || cartable_roster::read_roster(&owned, kind))
                .await
                .map_err(|e| AppError::Internal(format!("roster reader panicked: {e}")))?
                .map_err(|e| {
                    AppError::invalid(e.code(), crate::auth::capitalize(&e.to_string()))
                })?;
        let snapshot = self.store.roster_snapshot(school).await?;
        Ok(cartable_roster::plan(&parsed, &snapshot))
    }

    /// Applies a plan (no policy: callers check) and logs it.
    pub async fn apply_roster_plan(
        &self,
        school: SchoolId,
        plan: &RosterPlan,
        actor: Option<&Actor>,
        client: &ClientInfo,
    ) -> Result<RosterApplied, AppError> {
        let applied = self
            .store
            .apply_roster(school, &plan.ops, self.now())
            .await?;
        // Classes, teachers, names may have changed: no remembered copy.
        self.facts.forget(school);
        let summary = format!(
            "{} : {} créé(s), {} mis à jour, {} classe(s) créée(s)",
            plan.kind.label_fr(),
            applied.created.len(),
            applied.updated,
            applied.classes_created
        );
        self.audit(
            Some(school),
            "roster.imported",
            Some(summary),
            client,
            actor.map(|a| a.user_id),
        )
        .await;
        Ok(applied)
    }

    /// Step 1 in the browser: read, plan, keep the file as a draft.
    pub async fn preview_import(
        &self,
        actor: &Actor,
        school: SchoolId,
        file_name: &str,
        bytes: Vec<u8>,
        kind: Option<RosterKind>,
    ) -> Result<ImportPreview, AppError> {
        if !can(actor, Action::ImportRoster, Resource::School(school)) {
            return Err(AppError::Forbidden);
        }
        let plan = self.plan_roster(school, &bytes, kind).await?;
        let file_name: String = file_name
            .chars()
            .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
            .take(120)
            .collect();
        let draft_id = self
            .store
            .save_import_draft(&ImportDraft {
                id: 0,
                school_id: school,
                created_by: actor.user_id,
                created_at: self.now(),
                // The kind that was read, so that applying reads it the same way.
                kind: Some(plan.kind.code().to_string()),
                file_name: file_name.clone(),
                content: bytes,
            })
            .await?;
        Ok(ImportPreview {
            draft_id,
            file_name,
            plan,
        })
    }

    /// Step 2: apply the draft as it reads now.
    pub async fn apply_import(
        &self,
        actor: &Actor,
        school: SchoolId,
        draft_id: i64,
        client: &ClientInfo,
    ) -> Result<(RosterPlan, RosterApplied), AppError> {
        if !can(actor, Action::ImportRoster, Resource::School(school)) {
            return Err(AppError::Forbidden);
        }
        let draft = self.store.import_draft(school, draft_id).await?.ok_or_else(|| {
            AppError::invalid(
                "roster.draft_gone",
                "Cet aperçu n'existe plus (déjà appliqué ou trop ancien) : déposez le fichier à nouveau.",
            )
        })?;
        let kind = draft.kind.as_deref().and_then(RosterKind::from_code);
        let plan = self.plan_roster(school, &draft.content, kind).await?;
        let applied = self
            .apply_roster_plan(school, &plan, Some(actor), client)
            .await?;
        self.store.delete_import_draft(school, draft_id).await?;
        Ok((plan, applied))
    }
}
