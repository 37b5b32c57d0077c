//! The carnet de liaison: a note from the school or a teacher to families,
//! that each parent signs once; the sender sees who has and who has not, and
//! can remind those who have not.

use std::collections::BTreeSet;

use cartable_domain::policy::{can, Action, Actor, Resource};
use cartable_domain::{ClassId, Role, UserId};
use cartable_store::{
    NewAttachment, NewNote, NoteFamilyStatus, NoteForFamily, NoteRow, NoteSummary,
};

use crate::auth::ClientInfo;
use crate::messaging::{clean_title, render_body};
use crate::{App, AppError};

pub const MAX_TITLE_CHARS: usize = 150;

#[derive(Debug, Clone)]
pub struct NoteDraft {
    pub title: String,
    pub body: String,
    /// Every pupil of these classes...
    pub classes: Vec<ClassId>,
    /// ...and these pupils.
    pub pupils: Vec<UserId>,
    pub attachments: Vec<NewAttachment>,
}

/// A note as its reader is allowed to see it.
#[derive(Debug, Clone)]
pub enum NoteView {
    /// The sender, or the school office: who signed.
    Sender {
        note: NoteRow,
        families: Vec<NoteFamilyStatus>,
    },
    /// A parent: the note, the children it concerns, whether they signed.
    Family(NoteForFamily),
    /// A pupil it concerns: read only.
    Pupil(NoteRow),
}

fn manages(actor: &Actor) -> bool {
    matches!(actor.role, Role::Staff | Role::SchoolAdmin)
}

impl App {
    pub async fn send_note(
        &self,
        actor: &Actor,
        draft: NoteDraft,
        client: &ClientInfo,
    ) -> Result<i64, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        if !matches!(actor.role, Role::Teacher | Role::Staff | Role::SchoolAdmin) {
            return Err(AppError::Forbidden);
        }
        let title = clean_title(&draft.title, "le titre", MAX_TITLE_CHARS)?;
        let (body_md, body_html) = render_body(&draft.body)?;
        let mut pupils: BTreeSet<UserId> = BTreeSet::new();
        for class in &draft.classes {
            self.store
                .class(school, *class)
                .await?
                .ok_or(AppError::NotFound)?;
            if !can(
                actor,
                Action::SendNote,
                Resource::Class {
                    school,
                    class: *class,
                },
            ) {
                return Err(AppError::Forbidden);
            }
            pupils.extend(
                self.store
                    .class_pupils(school, *class)
                    .await?
                    .into_iter()
                    .map(|p| p.id),
            );
        }
        for pupil in &draft.pupils {
            let facts = self
                .store
                .person_facts(school, *pupil)
                .await?
                .ok_or(AppError::NotFound)?;
            let allowed = facts.role == Role::Pupil
                && facts.classes.iter().any(|class| {
                    can(
                        actor,
                        Action::SendNote,
                        Resource::Class {
                            school,
                            class: *class,
                        },
                    )
                });
            if !allowed {
                return Err(AppError::Forbidden);
            }
            pupils.insert(*pupil);
        }
        if pupils.is_empty() {
            return Err(AppError::invalid(
                "note.no_pupil",
                "Choisissez au moins une classe ou un élève.",
            ));
        }
        let count = pupils.len();
        let id = self
            .store
            .create_note(&NewNote {
                school_id: school,
                author_id: actor.user_id,
                title: title.clone(),
                body_md,
                body_html,
                pupils: pupils.into_iter().collect(),
                attachments: draft.attachments,
                now: self.now(),
            })
            .await?;
        self.audit(
            Some(school),
            "note.sent",
            Some(format!("{title} ({count} élèves)")),
            client,
            Some(actor.user_id),
        )
        .await;
        Ok(id)
    }

    /// Notes for the home page and the notes list: those a parent must sign,
    /// those about a pupil, those a teacher or the office sent.
    pub async fn notes_for_parent(&self, actor: &Actor) -> Result<Vec<NoteForFamily>, AppError> {
        match (actor.school_id, actor.role) {
            (Some(school), Role::Parent) => Ok(self
                .store
                .notes_for_parent(school, actor.user_id, 100)
                .await?),
            _ => Ok(Vec::new()),
        }
    }

    pub async fn notes_for_pupil(&self, actor: &Actor) -> Result<Vec<NoteRow>, AppError> {
        match (actor.school_id, actor.role) {
            (Some(school), Role::Pupil) => Ok(self
                .store
                .notes_for_pupil(school, actor.user_id, 100)
                .await?),
            _ => Ok(Vec::new()),
        }
    }

    pub async fn notes_sent(&self, actor: &Actor) -> Result<Vec<NoteSummary>, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        match actor.role {
            Role::Staff | Role::SchoolAdmin => Ok(self.store.notes_sent(school, None, 200).await?),
            Role::Teacher => Ok(self
                .store
                .notes_sent(school, Some(actor.user_id), 200)
                .await?),
            _ => Ok(Vec::new()),
        }
    }

    pub(crate) async fn may_read_note(&self, actor: &Actor, id: i64) -> Result<bool, AppError> {
        let Some(school) = actor.school_id else {
            return Ok(false);
        };
        let Some(note) = self.store.note(school, id).await? else {
            return Ok(false);
        };
        Ok(match actor.role {
            Role::Parent => self.store.note_concerns_parent(id, actor.user_id).await?,
            Role::Pupil => self.store.note_concerns_pupil(id, actor.user_id).await?,
            _ => note.author_id == actor.user_id || manages(actor),
        })
    }

    pub async fn note_for(&self, actor: &Actor, id: i64) -> Result<NoteView, AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        if !self.may_read_note(actor, id).await? {
            return Err(AppError::NotFound);
        }
        let note = self
            .store
            .note(school, id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(match actor.role {
            Role::Parent => {
                let mine = self
                    .store
                    .notes_for_parent(school, actor.user_id, 1000)
                    .await?
                    .into_iter()
                    .find(|n| n.note.id == id)
                    .ok_or(AppError::NotFound)?;
                NoteView::Family(mine)
            }
            Role::Pupil => NoteView::Pupil(note),
            _ => NoteView::Sender {
                families: self.store.note_status(school, id).await?,
                note,
            },
        })
    }

    /// Refusing an action on a note: 403 to someone who may read it (nothing
    /// to hide from them), 404 to anyone else (its existence is not theirs to know).
    async fn refusal_for(&self, actor: &Actor, id: i64) -> Result<AppError, AppError> {
        Ok(if self.may_read_note(actor, id).await? {
            AppError::Forbidden
        } else {
            AppError::NotFound
        })
    }

    /// A parent signs a note once; signing again changes nothing.
    pub async fn ack_note(
        &self,
        actor: &Actor,
        id: i64,
        client: &ClientInfo,
    ) -> Result<bool, AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        if actor.role != Role::Parent || !self.store.note_concerns_parent(id, actor.user_id).await?
        {
            return Err(self.refusal_for(actor, id).await?);
        }
        let first = self
            .store
            .ack_note(school, id, actor.user_id, self.now())
            .await?;
        if first {
            self.audit(
                Some(school),
                "note.signed",
                Some(id.to_string()),
                client,
                Some(actor.user_id),
            )
            .await;
        }
        Ok(first)
    }

    /// Reminds the families that have not signed: the note comes back to the
    /// top of their home page, marked as a reminder.
    pub async fn remind_note(
        &self,
        actor: &Actor,
        id: i64,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        let note = self
            .store
            .note(school, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if !(note.author_id == actor.user_id || manages(actor)) {
            return Err(self.refusal_for(actor, id).await?);
        }
        self.store.remind_note(school, id, self.now()).await?;
        self.audit(
            Some(school),
            "note.reminded",
            Some(id.to_string()),
            client,
            Some(actor.user_id),
        )
        .await;
        Ok(())
    }
}
