//! The cahier de textes: teachers log each lesson and the homework given;
//! pupils see what is due, day by day, and tick it off; parents see the same
//! for each child; teachers see a class's workload across subjects before
//! adding more.

use std::collections::{BTreeMap, HashSet};

use cartable_domain::calendar::Day;
use cartable_domain::policy::{can, Action, Actor, Resource};
use cartable_domain::{Role, SchoolId, Target, UserId};
use cartable_store::{
    ChildSummary, Cohorts, DueHomework, LessonFields, LessonRow, NewAttachment, NewLesson,
};

use crate::auth::ClientInfo;
use crate::cohorts::pupil_cohorts;
use crate::markdown;
use crate::messaging::clean_title;
use crate::{App, AppError};

/// How far ahead a pupil's list of homework looks.
pub const DUE_HORIZON_DAYS: i64 = 14;

/// Most files a lesson carries, however many times files are added (the
/// form that writes it takes as many at once).
pub const MAX_LESSON_FILES: usize = 5;

/// A lesson as typed in the form (strings, checked here).
#[derive(Debug, Clone, Default)]
pub struct LessonDraft {
    pub subject: String,
    pub lesson_date: String,
    pub content: String,
    pub homework: String,
    pub due_date: String,
    pub workload_minutes: String,
    pub is_test: bool,
    /// Empty: visible at once; a date: visible from that day.
    pub publish_date: String,
    pub attachments: Vec<NewAttachment>,
}

/// One day of homework due.
#[derive(Debug, Clone)]
pub struct DueDay {
    pub day: Day,
    pub items: Vec<DueHomework>,
}

/// What a pupil's own home page shows beyond the school's facts.
#[derive(Debug, Default)]
pub struct PupilView {
    pub due: Vec<DueDay>,
    pub unread_threads: i64,
}

/// One day of a class's (or group's) workload, across subjects.
#[derive(Debug, Clone)]
pub struct WorkloadDay {
    pub day: Day,
    pub items: Vec<LessonRow>,
    pub minutes: i64,
    pub tests: usize,
}

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::invalid(code, message)
}

fn render_optional(text: &str, field: &'static str) -> Result<(String, String), AppError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok((String::new(), String::new()));
    }
    markdown::check_length(t, field).map_err(|m| invalid("text.too_long", m))?;
    Ok((t.to_string(), markdown::render(t)))
}

impl App {
    fn today(&self) -> Day {
        Day::in_paris(self.now())
    }

    /// Checks a draft and turns it into stored fields.
    fn lesson_fields(
        &self,
        draft: &LessonDraft,
        default_subject: Option<&str>,
    ) -> Result<LessonFields, AppError> {
        let subject_raw = if draft.subject.trim().is_empty() {
            default_subject.unwrap_or("")
        } else {
            draft.subject.as_str()
        };
        let subject = clean_title(subject_raw, "la matière", 80)?;
        let lesson_date = Day::parse(&draft.lesson_date)
            .ok_or_else(|| invalid("lesson.date", "Indiquez la date de la séance (jj/mm/aaaa)."))?;
        let (content_md, content_html) =
            render_optional(&draft.content, "le contenu de la séance")?;
        let (homework_md, homework_html) = render_optional(&draft.homework, "le travail à faire")?;
        if content_md.is_empty() && homework_md.is_empty() {
            return Err(invalid(
                "lesson.empty",
                "Écrivez ce qui a été fait en séance ou le travail à faire.",
            ));
        }
        let due_date = match draft.due_date.trim() {
            "" => None,
            raw => Some(Day::parse(raw).ok_or_else(|| {
                invalid("lesson.due_date", "Date « pour le » invalide (jj/mm/aaaa).")
            })?),
        };
        if due_date.is_some() && homework_md.is_empty() {
            return Err(invalid(
                "lesson.due_without_work",
                "Une date « pour le » demande un travail à faire.",
            ));
        }
        if !homework_md.is_empty() && due_date.is_none() {
            return Err(invalid(
                "lesson.work_without_date",
                "Indiquez pour quand est le travail à faire.",
            ));
        }
        if let Some(due) = due_date {
            if due < lesson_date {
                return Err(invalid(
                    "lesson.due_before",
                    "Le travail ne peut pas être dû avant la séance.",
                ));
            }
        }
        let workload_minutes = match draft.workload_minutes.trim() {
            "" => None,
            raw => match raw.parse::<i64>() {
                Ok(m) if (1..=600).contains(&m) => Some(m),
                _ => {
                    return Err(invalid(
                        "lesson.workload",
                        "La charge estimée est un nombre de minutes, de 1 à 600.",
                    ))
                }
            },
        };
        let publish_at = match draft.publish_date.trim() {
            "" => self.now(),
            raw => Day::parse(raw)
                .ok_or_else(|| {
                    invalid(
                        "lesson.publish",
                        "Date de publication invalide (jj/mm/aaaa).",
                    )
                })?
                .start_unix()
                .max(0),
        };
        Ok(LessonFields {
            subject,
            lesson_date: lesson_date.iso(),
            content_md,
            content_html,
            homework_md,
            homework_html,
            due_date: due_date.map(|d| d.iso()),
            workload_minutes,
            is_test: draft.is_test,
            publish_at,
        })
    }

    pub async fn write_lesson(
        &self,
        actor: &Actor,
        target: Target,
        draft: LessonDraft,
        client: &ClientInfo,
    ) -> Result<i64, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        self.target_summary(school, target).await?;
        if !can(
            actor,
            Action::WriteLessons,
            Resource::target(school, target),
        ) {
            return Err(AppError::Forbidden);
        }
        let teacher = self
            .store
            .user(Some(school), actor.user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let fields = self.lesson_fields(&draft, teacher.subject.as_deref())?;
        let id = self
            .store
            .create_lesson(&NewLesson {
                school_id: school,
                target,
                author_id: actor.user_id,
                fields: fields.clone(),
                attachments: draft.attachments,
                now: self.now(),
            })
            .await?;
        self.facts.forget_homework(school);
        self.audit(
            Some(school),
            "lesson.written",
            Some(format!("{} {}", fields.subject, fields.lesson_date)),
            client,
            Some(actor.user_id),
        )
        .await;
        Ok(id)
    }

    pub async fn edit_lesson(
        &self,
        actor: &Actor,
        id: i64,
        draft: LessonDraft,
    ) -> Result<(), AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        let lesson = self.lesson_for(actor, id).await?;
        if lesson.author_id != actor.user_id {
            return Err(AppError::Forbidden);
        }
        let fields = self.lesson_fields(&draft, Some(&lesson.fields.subject))?;
        if !self
            .store
            .update_lesson(school, id, actor.user_id, &fields, self.now())
            .await?
        {
            return Err(AppError::Forbidden);
        }
        self.facts.forget_homework(school);
        Ok(())
    }

    /// Adds files to a lesson already written (its author only). The files
    /// are already stored: on refusal the caller deletes them.
    pub async fn add_lesson_files(
        &self,
        actor: &Actor,
        id: i64,
        files: Vec<NewAttachment>,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        let lesson = self.lesson_for(actor, id).await?;
        if lesson.author_id != actor.user_id
            || !can(
                actor,
                Action::WriteLessons,
                Resource::target(school, lesson.target),
            )
        {
            return Err(AppError::Forbidden);
        }
        if files.is_empty() {
            return Err(invalid(
                "lesson.no_file",
                "Choisissez au moins un document à joindre.",
            ));
        }
        if lesson.attachments.len() + files.len() > MAX_LESSON_FILES {
            return Err(invalid(
                "lesson.too_many_files",
                format!(
                    "Une séance a {MAX_LESSON_FILES} documents au plus : retirez-en avant d'en joindre d'autres."
                ),
            ));
        }
        let names = files
            .iter()
            .map(|f| f.file_name.clone())
            .collect::<Vec<_>>()
            .join(", ");
        if !self
            .store
            .add_lesson_attachments(school, id, actor.user_id, &files, self.now())
            .await?
        {
            return Err(AppError::Forbidden);
        }
        self.facts.forget_homework(school);
        self.audit(
            Some(school),
            "lesson.files_added",
            Some(format!("séance {id} : {names}")),
            client,
            Some(actor.user_id),
        )
        .await;
        Ok(())
    }

    /// Removes one file of a lesson (its author only), and its stored bytes.
    pub async fn remove_lesson_file(
        &self,
        actor: &Actor,
        id: i64,
        attachment: i64,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        let lesson = self.lesson_for(actor, id).await?;
        if lesson.author_id != actor.user_id
            || !can(
                actor,
                Action::WriteLessons,
                Resource::target(school, lesson.target),
            )
        {
            return Err(AppError::Forbidden);
        }
        let removed = self
            .store
            .remove_lesson_attachment(school, id, actor.user_id, attachment)
            .await?
            .ok_or(AppError::NotFound)?;
        self.facts.forget_homework(school);
        if let Err(e) = self.blobs.delete(&removed.blob_key).await {
            tracing::warn!(error = %e, key = %removed.blob_key, "could not delete a removed lesson file");
        }
        self.audit(
            Some(school),
            "lesson.file_removed",
            Some(format!("séance {id} : {}", removed.file_name)),
            client,
            Some(actor.user_id),
        )
        .await;
        Ok(())
    }

    pub async fn delete_lesson(
        &self,
        actor: &Actor,
        id: i64,
        client: &ClientInfo,
    ) -> Result<Target, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        let lesson = self.lesson_for(actor, id).await?;
        let Some(keys) = self.store.delete_lesson(school, id, actor.user_id).await? else {
            return Err(AppError::Forbidden);
        };
        self.facts.forget_homework(school);
        for key in keys {
            if let Err(e) = self.blobs.delete(&key).await {
                tracing::warn!(error = %e, %key, "could not delete a deleted lesson's file");
            }
        }
        self.audit(
            Some(school),
            "lesson.deleted",
            Some(format!(
                "{} {}",
                lesson.fields.subject, lesson.fields.lesson_date
            )),
            client,
            Some(actor.user_id),
        )
        .await;
        Ok(lesson.target)
    }

    /// A lesson the actor may read: its class's cahier, and if not yet
    /// published, only its author.
    pub async fn lesson_for(&self, actor: &Actor, id: i64) -> Result<LessonRow, AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        let lesson = self
            .store
            .lesson(school, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let visible = can(
            actor,
            Action::ViewLessons,
            Resource::target(school, lesson.target),
        ) && (lesson.fields.publish_at <= self.now()
            || lesson.author_id == actor.user_id);
        if visible {
            Ok(lesson)
        } else {
            Err(AppError::NotFound)
        }
    }

    /// A week (Monday to Sunday) of a class's or a group's cahier de textes.
    pub async fn target_week(
        &self,
        actor: &Actor,
        target: Target,
        monday: Day,
    ) -> Result<Vec<LessonRow>, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        self.target_summary(school, target).await?;
        let resource = Resource::target(school, target);
        if !can(actor, Action::ViewLessons, resource) {
            return Err(AppError::Forbidden);
        }
        let teaches = can(actor, Action::WriteLessons, resource);
        let lessons = self
            .store
            .target_lessons(
                school,
                target,
                &monday.iso(),
                &monday.plus(6).iso(),
                self.now(),
                teaches,
            )
            .await?;
        // A teacher sees their own scheduled entries; nobody sees others' before publication.
        Ok(lessons
            .into_iter()
            .filter(|l| l.fields.publish_at <= self.now() || l.author_id == actor.user_id)
            .collect())
    }

    /// The homework due by a class's or a group's pupils, per day of a week,
    /// all subjects: what a teacher looks at before adding more (so that a
    /// class does not get five tests on one day). That includes the homework
    /// of every other class or group those pupils are in (a class's Latin
    /// group, a group's pupils' classes): the load falls on the same pupils.
    /// Entries not yet published count too: a test set ahead is exactly what
    /// a colleague must see before setting another.
    pub async fn target_workload(
        &self,
        actor: &Actor,
        target: Target,
        monday: Day,
    ) -> Result<Vec<WorkloadDay>, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        self.target_summary(school, target).await?;
        if !can(actor, Action::ViewLessons, Resource::target(school, target))
            || !matches!(actor.role, Role::Teacher | Role::Staff | Role::SchoolAdmin)
        {
            return Err(AppError::Forbidden);
        }
        let cohorts = self.store.cohorts_sharing_pupils(school, target).await?;
        let due = self
            .store
            .homework_due(
                school,
                &cohorts,
                &monday.iso(),
                &monday.plus(6).iso(),
                i64::MAX,
                None,
            )
            .await?;
        let mut days: BTreeMap<Day, WorkloadDay> = (0..6)
            .map(|i| {
                let day = monday.plus(i);
                (
                    day,
                    WorkloadDay {
                        day,
                        items: Vec::new(),
                        minutes: 0,
                        tests: 0,
                    },
                )
            })
            .collect();
        for d in due {
            let Some(day) = d.lesson.fields.due_date.as_deref().and_then(Day::parse) else {
                continue;
            };
            let entry = days.entry(day).or_insert(WorkloadDay {
                day,
                items: Vec::new(),
                minutes: 0,
                tests: 0,
            });
            entry.minutes += d.lesson.fields.workload_minutes.unwrap_or(0);
            entry.tests += usize::from(d.lesson.fields.is_test);
            entry.items.push(d.lesson);
        }
        Ok(days.into_values().collect())
    }

    /// Published homework of these classes and groups due in the next two
    /// weeks, by due date then subject, from this node's memory of each
    /// class's homework (see `school_facts`).
    async fn homework_in_view(
        &self,
        school: SchoolId,
        cohorts: &Cohorts,
    ) -> Result<Vec<LessonRow>, AppError> {
        let (today, now) = (self.today(), self.now());
        let mut lessons = Vec::new();
        for target in cohorts.targets() {
            let remembered = self
                .homework_remembered(school, target, today, today.plus(DUE_HORIZON_DAYS))
                .await?;
            lessons.extend(
                remembered
                    .iter()
                    .filter(|l| l.fields.publish_at <= now)
                    .cloned(),
            );
        }
        lessons.sort_by(|a, b| {
            (&a.fields.due_date, &a.fields.subject, a.id).cmp(&(
                &b.fields.due_date,
                &b.fields.subject,
                b.id,
            ))
        });
        Ok(lessons)
    }

    /// The homework in view for a pupil, with their done marks, and their
    /// unread thread count: one query beyond what the node remembers.
    async fn pupil_view(
        &self,
        school: SchoolId,
        pupil: UserId,
        cohorts: &Cohorts,
    ) -> Result<PupilView, AppError> {
        let lessons = self.homework_in_view(school, cohorts).await?;
        // Ids grow: the done marks that matter are on ids from the oldest in view.
        let since = lessons.iter().map(|l| l.id).min().unwrap_or(i64::MAX);
        let glance = self.store.pupil_glance(school, pupil, since).await?;
        let done: HashSet<i64> = glance.done.into_iter().collect();
        let mut days: BTreeMap<Day, Vec<DueHomework>> = BTreeMap::new();
        for lesson in lessons {
            if let Some(day) = lesson.fields.due_date.as_deref().and_then(Day::parse) {
                days.entry(day).or_default().push(DueHomework {
                    done: done.contains(&lesson.id),
                    lesson,
                });
            }
        }
        Ok(PupilView {
            due: days
                .into_iter()
                .map(|(day, items)| DueDay { day, items })
                .collect(),
            unread_threads: glance.unread_threads,
        })
    }

    /// A pupil's homework for the next two weeks (their class's and their
    /// groups'), by day then subject, and their unread thread count.
    pub async fn pupil_home(&self, actor: &Actor) -> Result<PupilView, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        if actor.role != Role::Pupil {
            return Ok(PupilView::default());
        }
        self.pupil_view(school, actor.user_id, &pupil_cohorts(actor))
            .await
    }

    /// A pupil's homework for the next two weeks, by day then subject.
    pub async fn due_for_pupil(&self, actor: &Actor) -> Result<Vec<DueDay>, AppError> {
        Ok(self.pupil_home(actor).await?.due)
    }

    /// Each child's homework, read-only, with the child's own done marks.
    pub async fn due_for_children(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(ChildSummary, Vec<DueDay>)>, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        if actor.role != Role::Parent {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for child in self.store.children_of(school, actor.user_id).await? {
            let cohorts = self.store.pupil_cohorts(school, child.child.id).await?;
            let view = self.pupil_view(school, child.child.id, &cohorts).await?;
            out.push((child, view.due));
        }
        Ok(out)
    }

    /// A pupil ticks (or unticks) a homework as done.
    pub async fn set_homework_done(
        &self,
        actor: &Actor,
        lesson: i64,
        done: bool,
    ) -> Result<(), AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        let row = self.lesson_for(actor, lesson).await?;
        if !pupil_cohorts(actor).contains(row.target) {
            return Err(AppError::Forbidden);
        }
        self.store
            .set_homework_done(school, lesson, actor.user_id, done, self.now())
            .await?;
        Ok(())
    }

    /// Today, in Paris.
    pub fn school_today(&self) -> Day {
        self.today()
    }

    pub(crate) async fn may_read_lesson(&self, actor: &Actor, id: i64) -> Result<bool, AppError> {
        match self.lesson_for(actor, id).await {
            Ok(_) => Ok(true),
            Err(AppError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
