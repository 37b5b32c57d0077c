//! The messagerie: starting conversations (to people, to a class, to its
//! parents, to the whole school), replying, the inbox, search, and the
//! per-account sending limits that keep one stolen account from flooding a school.

use std::collections::{BTreeMap, BTreeSet};

use cartable_domain::messaging::{may_write, sending_limits, MessagingRules};
use cartable_domain::policy::{can, Action, Actor, Resource};
use cartable_domain::{ClassId, Role, SchoolId, UserId};
use cartable_store::{
    AttachmentRow, NewAttachment, NewThread, SenderActivity, ThreadSummary, ThreadView, UserSummary,
};

use crate::auth::ClientInfo;
use crate::markdown;
use crate::{App, AppError};

pub const MAX_SUBJECT_CHARS: usize = 150;

/// A group a message can be sent to in one go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    ClassPupils(ClassId),
    ClassParents(ClassId),
    AllTeachers,
    WholeSchool,
}

impl Group {
    /// The value a form carries ("eleves:12", "parents:12", "enseignants", "etablissement").
    pub fn code(&self) -> String {
        match self {
            Group::ClassPupils(c) => format!("eleves:{c}"),
            Group::ClassParents(c) => format!("parents:{c}"),
            Group::AllTeachers => "enseignants".into(),
            Group::WholeSchool => "etablissement".into(),
        }
    }

    pub fn parse(code: &str) -> Option<Group> {
        match code.split_once(':') {
            Some(("eleves", id)) => id.parse().ok().map(|i| Group::ClassPupils(ClassId(i))),
            Some(("parents", id)) => id.parse().ok().map(|i| Group::ClassParents(ClassId(i))),
            None if code == "enseignants" => Some(Group::AllTeachers),
            None if code == "etablissement" => Some(Group::WholeSchool),
            _ => None,
        }
    }
}

/// A group offered on the compose form, with its French label.
#[derive(Debug, Clone)]
pub struct GroupChoice {
    pub group: Group,
    pub label: String,
}

/// What the compose form offers this person.
#[derive(Debug, Clone, Default)]
pub struct Reachable {
    pub people: Vec<UserSummary>,
    pub groups: Vec<GroupChoice>,
}

/// A new conversation, as typed.
#[derive(Debug, Clone, Default)]
pub struct Compose {
    pub subject: String,
    pub body: String,
    pub people: Vec<UserId>,
    pub groups: Vec<Group>,
    pub attachments: Vec<NewAttachment>,
}

fn school_of(actor: &Actor) -> Result<SchoolId, AppError> {
    actor.school_id.ok_or(AppError::Forbidden)
}

/// Checks a title-like field: trimmed, not empty, not too long, one line.
pub(crate) fn clean_title(raw: &str, field: &str, max: usize) -> Result<String, AppError> {
    let t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        return Err(AppError::invalid(
            "text.empty",
            format!("Indiquez {field}."),
        ));
    }
    if t.chars().count() > max {
        return Err(AppError::invalid(
            "text.too_long",
            format!(
                "{} est trop long : {max} caractères au plus.",
                capitalize_first(field)
            ),
        ));
    }
    Ok(t)
}

fn capitalize_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Renders a message body, refusing empty or oversized text.
pub(crate) fn render_body(body: &str) -> Result<(String, String), AppError> {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return Err(AppError::invalid("text.empty", "Le message est vide."));
    }
    markdown::check_length(trimmed, "le message")
        .map_err(|m| AppError::invalid("text.too_long", m))?;
    Ok((trimmed.to_string(), markdown::render(trimmed)))
}

impl App {
    pub async fn messaging_rules(&self, school: SchoolId) -> Result<MessagingRules, AppError> {
        Ok(self.store.messaging_rules(school).await?)
    }

    /// The people and groups `actor` may write to.
    pub async fn reachable(&self, actor: &Actor) -> Result<Reachable, AppError> {
        let school = school_of(actor)?;
        let rules = self.store.messaging_rules(school).await?;
        let people = self
            .people_remembered(school)
            .await?
            .iter()
            .filter(|(p, facts)| !p.disabled && may_write(&rules, actor, facts))
            .map(|(p, _)| p.clone())
            .collect();
        let mut groups = Vec::new();
        for class in self.classes_remembered(school).await?.iter() {
            let resource = Resource::Class {
                school,
                class: class.id,
            };
            if can(actor, Action::ViewClassRoster, resource)
                && matches!(actor.role, Role::Teacher | Role::Staff | Role::SchoolAdmin)
            {
                groups.push(GroupChoice {
                    group: Group::ClassPupils(class.id),
                    label: format!("Élèves de {}", class.name),
                });
                groups.push(GroupChoice {
                    group: Group::ClassParents(class.id),
                    label: format!("Parents de {}", class.name),
                });
            }
        }
        if matches!(actor.role, Role::Staff | Role::SchoolAdmin) {
            groups.push(GroupChoice {
                group: Group::AllTeachers,
                label: "Tous les enseignants".into(),
            });
            groups.push(GroupChoice {
                group: Group::WholeSchool,
                label: "Tout l'établissement".into(),
            });
        }
        Ok(Reachable { people, groups })
    }

    /// Expands groups to people, checking that the actor may use each group.
    async fn expand_groups(
        &self,
        actor: &Actor,
        school: SchoolId,
        groups: &[Group],
    ) -> Result<BTreeSet<UserId>, AppError> {
        let mut out = BTreeSet::new();
        for g in groups {
            match *g {
                Group::ClassPupils(class) | Group::ClassParents(class) => {
                    self.store
                        .class(school, class)
                        .await?
                        .ok_or(AppError::NotFound)?;
                    let allowed =
                        can(
                            actor,
                            Action::ViewClassRoster,
                            Resource::Class { school, class },
                        ) && matches!(actor.role, Role::Teacher | Role::Staff | Role::SchoolAdmin);
                    if !allowed {
                        return Err(AppError::Forbidden);
                    }
                    let people = match g {
                        Group::ClassPupils(_) => self.store.class_pupils(school, class).await?,
                        _ => self.store.class_parents(school, class).await?,
                    };
                    out.extend(people.into_iter().filter(|p| !p.disabled).map(|p| p.id));
                }
                Group::AllTeachers | Group::WholeSchool => {
                    if !matches!(actor.role, Role::Staff | Role::SchoolAdmin) {
                        return Err(AppError::Forbidden);
                    }
                    let role = (*g == Group::AllTeachers).then_some(Role::Teacher);
                    let people = self.store.people(school, role).await?;
                    out.extend(people.into_iter().filter(|p| !p.disabled).map(|p| p.id));
                }
            }
        }
        Ok(out)
    }

    /// Refuses when the account has sent its hourly allowance.
    async fn check_sending_rate(&self, actor: &Actor, client: &ClientInfo) -> Result<(), AppError> {
        let limits = sending_limits(actor.role);
        let sent = self
            .store
            .messages_sent_since(actor.user_id, self.now() - 3600 + 1)
            .await?;
        if sent >= limits.messages_per_hour {
            self.audit(
                actor.school_id,
                "message.rate_limited",
                Some(format!("{sent} messages en une heure")),
                client,
                Some(actor.user_id),
            )
            .await;
            return Err(AppError::RateLimited {
                message: format!(
                    "Vous avez envoyé {sent} messages dans l'heure, la limite de votre compte : attendez un peu avant d'écrire à nouveau. Si ce n'est pas vous, changez votre mot de passe et prévenez l'établissement."
                ),
                retry_after_secs: 600,
            });
        }
        Ok(())
    }

    /// Starts a conversation. Returns the thread id.
    pub async fn send_message(
        &self,
        actor: &Actor,
        compose: Compose,
        client: &ClientInfo,
    ) -> Result<i64, AppError> {
        let school = school_of(actor)?;
        let subject = clean_title(&compose.subject, "l'objet", MAX_SUBJECT_CHARS)?;
        let (body_md, body_html) = render_body(&compose.body)?;
        if compose.people.is_empty() && compose.groups.is_empty() {
            return Err(AppError::invalid(
                "message.no_recipient",
                "Choisissez au moins un destinataire.",
            ));
        }
        self.check_sending_rate(actor, client).await?;
        let rules = self.store.messaging_rules(school).await?;
        let mut members: BTreeSet<UserId> = BTreeSet::new();
        for person in &compose.people {
            let facts = self
                .store
                .person_facts(school, *person)
                .await?
                .ok_or(AppError::NotFound)?;
            if !may_write(&rules, actor, &facts) {
                return Err(AppError::invalid(
                    "message.recipient_not_allowed",
                    "Vous ne pouvez pas écrire à l'un des destinataires choisis (règles de la messagerie de l'établissement).",
                ));
            }
            members.insert(*person);
        }
        members.extend(self.expand_groups(actor, school, &compose.groups).await?);
        members.remove(&actor.user_id);
        let limits = sending_limits(actor.role);
        if members.is_empty() {
            return Err(AppError::invalid(
                "message.no_recipient",
                "Aucun destinataire : les groupes choisis sont vides.",
            ));
        }
        if members.len() > limits.recipients_per_message {
            return Err(AppError::invalid(
                "message.too_many_recipients",
                format!(
                    "{} destinataires : {} au plus pour votre compte.",
                    members.len(),
                    limits.recipients_per_message
                ),
            ));
        }
        let recipients = members.len();
        members.insert(actor.user_id);
        let broadcast = !compose.groups.is_empty();
        let (thread, _) = self
            .store
            .create_thread(&NewThread {
                school_id: school,
                subject,
                author_id: actor.user_id,
                members: members.into_iter().collect(),
                private_replies: broadcast,
                reply_to_thread_id: None,
                body_md,
                body_html,
                attachments: compose.attachments,
                now: self.now(),
            })
            .await?;
        if broadcast {
            self.audit(
                Some(school),
                "message.broadcast",
                Some(format!("{recipients} destinataires")),
                client,
                Some(actor.user_id),
            )
            .await;
        }
        Ok(thread)
    }

    /// Replies in a thread. On a broadcast (to a class, to parents), the reply
    /// goes to its author only, in a private conversation. Returns the thread
    /// the reply landed in.
    pub async fn reply(
        &self,
        actor: &Actor,
        thread: i64,
        body: &str,
        attachments: Vec<NewAttachment>,
        client: &ClientInfo,
    ) -> Result<i64, AppError> {
        let school = school_of(actor)?;
        let view = self
            .store
            .thread_for_member(school, thread, actor.user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let (body_md, body_html) = render_body(body)?;
        self.check_sending_rate(actor, client).await?;
        let now = self.now();
        if view.private_replies && view.author_id != actor.user_id {
            if let Some(private) = self
                .store
                .private_reply_thread(school, thread, actor.user_id)
                .await?
            {
                self.store
                    .add_message(
                        school,
                        private,
                        actor.user_id,
                        &body_md,
                        &body_html,
                        &attachments,
                        now,
                    )
                    .await?;
                return Ok(private);
            }
            let subject: String = format!("Re : {}", view.subject)
                .chars()
                .take(MAX_SUBJECT_CHARS)
                .collect();
            let (private, _) = self
                .store
                .create_thread(&NewThread {
                    school_id: school,
                    subject,
                    author_id: actor.user_id,
                    members: vec![actor.user_id, view.author_id],
                    private_replies: false,
                    reply_to_thread_id: Some(thread),
                    body_md,
                    body_html,
                    attachments,
                    now,
                })
                .await?;
            return Ok(private);
        }
        self.store
            .add_message(
                school,
                thread,
                actor.user_id,
                &body_md,
                &body_html,
                &attachments,
                now,
            )
            .await?;
        Ok(thread)
    }

    pub async fn inbox(
        &self,
        actor: &Actor,
        search: Option<&str>,
    ) -> Result<Vec<ThreadSummary>, AppError> {
        let school = school_of(actor)?;
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = search {
            if s.chars().count() > 100 {
                return Err(AppError::invalid(
                    "search.too_long",
                    "La recherche est trop longue : 100 caractères au plus.",
                ));
            }
        }
        Ok(self
            .store
            .threads_of(school, actor.user_id, search, 200)
            .await?)
    }

    /// Opens a thread the actor is part of, and marks it read.
    pub async fn open_thread(&self, actor: &Actor, thread: i64) -> Result<ThreadView, AppError> {
        let school = school_of(actor)?;
        let view = self
            .store
            .thread_for_member(school, thread, actor.user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if let Some(last) = view.messages.last() {
            self.store.mark_read(thread, actor.user_id, last.id).await?;
        }
        Ok(view)
    }

    pub async fn unread_threads(&self, actor: &Actor) -> Result<i64, AppError> {
        match actor.school_id {
            Some(school) => Ok(self.store.unread_threads(school, actor.user_id).await?),
            None => Ok(0),
        }
    }

    /// The admin's messaging page: the rules and who sent the most in a day.
    pub async fn messaging_overview(
        &self,
        actor: &Actor,
    ) -> Result<(MessagingRules, Vec<SenderActivity>), AppError> {
        let school = school_of(actor)?;
        if !can(actor, Action::ManageMessaging, Resource::School(school)) {
            return Err(AppError::Forbidden);
        }
        let rules = self.store.messaging_rules(school).await?;
        let senders = self
            .store
            .top_senders(school, self.now() - 86_400, 20)
            .await?;
        Ok((rules, senders))
    }

    pub async fn set_messaging_rules(
        &self,
        actor: &Actor,
        rules: MessagingRules,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let school = school_of(actor)?;
        if !can(actor, Action::ManageMessaging, Resource::School(school)) {
            return Err(AppError::Forbidden);
        }
        self.store
            .set_messaging_rules(school, &rules, self.now())
            .await?;
        self.audit(
            Some(school),
            "messaging.rules_changed",
            Some(format!("{rules:?}")),
            client,
            Some(actor.user_id),
        )
        .await;
        Ok(())
    }

    /// An attachment the actor may download: a message of one of their
    /// threads, news they are in the audience of, a note that concerns them.
    pub async fn attachment_for(&self, actor: &Actor, id: i64) -> Result<AttachmentRow, AppError> {
        let school = school_of(actor)?;
        let a = self
            .store
            .attachment(school, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let allowed = match a.owner_kind.as_str() {
            "message" => match self.store.message_thread(school, a.owner_id).await? {
                Some(thread) => self.store.is_thread_member(thread, actor.user_id).await?,
                None => false,
            },
            "news" => self.may_read_news(actor, a.owner_id).await?,
            "note" => self.may_read_note(actor, a.owner_id).await?,
            "lesson" => self.may_read_lesson(actor, a.owner_id).await?,
            "folder" => self.may_read_folder(actor, a.owner_id).await?,
            "assignment" => self.may_read_assignment(actor, a.owner_id).await?,
            "submission" => self.may_read_submission_file(actor, a.owner_id).await?,
            _ => false,
        };
        if allowed {
            Ok(a)
        } else {
            // Not "forbidden": whether the file exists is none of their business.
            Err(AppError::NotFound)
        }
    }
}

/// Groups recipients' names for display ("Léa Martin, Hugo Petit et 33 autres").
pub fn names_preview(people: &[UserSummary], max: usize) -> String {
    let names: Vec<String> = people.iter().take(max).map(|p| p.display_name()).collect();
    let rest = people.len().saturating_sub(max);
    match rest {
        0 => names.join(", "),
        n => format!(
            "{} et {n} autre{}",
            names.join(", "),
            if n > 1 { "s" } else { "" }
        ),
    }
}

/// Sorted, deduplicated ids from a form.
pub fn unique_ids(ids: impl IntoIterator<Item = UserId>) -> Vec<UserId> {
    let set: BTreeMap<UserId, ()> = ids.into_iter().map(|i| (i, ())).collect();
    set.into_keys().collect()
}
