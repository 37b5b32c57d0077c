//! A per-node memory of what every pupil's pages show and is the same for a
//! whole school or class: the school's name, its classes and groups with
//! their teachers, who is who (for the people one may write to), its news
//! and each class's homework in view. At 8:00 a
//! school's 800 pupils open that page within minutes; without this memory
//! each page would read all of it again (about eight queries), with it a
//! pupil's page reads only what is theirs alone (one query: done marks and
//! unread threads).
//!
//! Freshness, and why it is acceptable:
//! - the roster (name, classes, groups, teachers, people) changes a few times
//!   a year, by an import that forgets it on this node at once (as does
//!   disabling an account); other nodes follow within `ROSTER_TTL_SECS`;
//! - news and homework change during the day: a write on this node forgets
//!   the school's entries at once; other nodes follow within
//!   `DAILY_TTL_SECS`. Scheduled items are kept with their publication time
//!   and filtered on every read, so they appear on time.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use cartable_domain::calendar::Day;
use cartable_domain::policy::PersonFacts;
use cartable_domain::{ClassId, SchoolId, Target};
use cartable_store::{
    ClassSummary, Cohorts, GroupSummary, LessonRow, NewsRow, School, TeacherOfClass, UserSummary,
};

use crate::{App, AppError};

/// How long roster facts are believed without asking the database.
pub const ROSTER_TTL_SECS: i64 = 60;
/// How long news and homework are believed (when written on another node).
pub const DAILY_TTL_SECS: i64 = 15;
/// News items remembered per school (the home page shows three that the
/// reader may see; the rest cover items meant for other classes).
pub const NEWS_KEPT: i64 = 40;
/// Entries kept at most per kind; when full, the memory starts over.
const MAX_ENTRIES: usize = 50_000;

/// Values with the time they were read.
type Remembered<K, V> = Mutex<HashMap<K, (i64, V)>>;

#[derive(Default)]
pub struct SchoolFacts {
    schools: Remembered<SchoolId, Option<School>>,
    teachers: Remembered<(SchoolId, ClassId), Vec<TeacherOfClass>>,
    classes: Remembered<SchoolId, Arc<Vec<ClassSummary>>>,
    groups: Remembered<SchoolId, Arc<Vec<GroupSummary>>>,
    people: Remembered<SchoolId, Arc<Vec<(UserSummary, PersonFacts)>>>,
    news: Remembered<SchoolId, Arc<Vec<NewsRow>>>,
    /// Homework of one class or group due from a day on (the key's day).
    homework: Remembered<(SchoolId, Target, Day), Arc<Vec<LessonRow>>>,
}

fn lock<K, V>(map: &Remembered<K, V>) -> std::sync::MutexGuard<'_, HashMap<K, (i64, V)>> {
    map.lock().unwrap_or_else(|e| e.into_inner())
}

fn fresh<K: Hash + Eq, V: Clone>(map: &Remembered<K, V>, key: &K, now: i64, ttl: i64) -> Option<V> {
    lock(map)
        .get(key)
        .filter(|(at, _)| now - at < ttl && *at <= now)
        .map(|(_, v)| v.clone())
}

fn remember<K: Hash + Eq, V>(map: &Remembered<K, V>, key: K, now: i64, v: V) {
    let mut map = lock(map);
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(key, (now, v));
}

impl SchoolFacts {
    /// Forgets everything this node remembers of `school` (after a roster import).
    pub fn forget(&self, school: SchoolId) {
        lock(&self.schools).remove(&school);
        lock(&self.teachers).retain(|(s, _), _| *s != school);
        lock(&self.classes).remove(&school);
        lock(&self.groups).remove(&school);
        lock(&self.people).remove(&school);
        self.forget_news(school);
        self.forget_homework(school);
    }

    /// After news of `school` is published or deleted on this node.
    pub fn forget_news(&self, school: SchoolId) {
        lock(&self.news).remove(&school);
    }

    /// After a lesson of `school` is written, changed or deleted on this node.
    pub fn forget_homework(&self, school: SchoolId) {
        lock(&self.homework).retain(|(s, _, _), _| *s != school);
    }
}

impl App {
    /// The school, remembered for up to a minute.
    pub async fn school_remembered(&self, school: SchoolId) -> Result<Option<School>, AppError> {
        let now = self.now();
        if let Some(s) = fresh(&self.facts.schools, &school, now, ROSTER_TTL_SECS) {
            return Ok(s);
        }
        let s = self.store.school(school).await?;
        remember(&self.facts.schools, school, now, s.clone());
        Ok(s)
    }

    /// A class's teachers, remembered for up to a minute.
    pub async fn class_teachers_remembered(
        &self,
        school: SchoolId,
        class: ClassId,
    ) -> Result<Vec<TeacherOfClass>, AppError> {
        let now = self.now();
        let key = (school, class);
        if let Some(t) = fresh(&self.facts.teachers, &key, now, ROSTER_TTL_SECS) {
            return Ok(t);
        }
        let t = self.store.class_teachers(school, class).await?;
        remember(&self.facts.teachers, key, now, t.clone());
        Ok(t)
    }

    /// The school's classes with their sizes, remembered for up to a minute.
    pub async fn classes_remembered(
        &self,
        school: SchoolId,
    ) -> Result<Arc<Vec<ClassSummary>>, AppError> {
        let now = self.now();
        if let Some(c) = fresh(&self.facts.classes, &school, now, ROSTER_TTL_SECS) {
            return Ok(c);
        }
        let c = Arc::new(self.store.classes(school).await?);
        remember(&self.facts.classes, school, now, c.clone());
        Ok(c)
    }

    /// The school's groups with their sizes, remembered for up to a minute.
    pub async fn groups_remembered(
        &self,
        school: SchoolId,
    ) -> Result<Arc<Vec<GroupSummary>>, AppError> {
        let now = self.now();
        if let Some(g) = fresh(&self.facts.groups, &school, now, ROSTER_TTL_SECS) {
            return Ok(g);
        }
        let g = Arc::new(self.store.groups(school).await?);
        remember(&self.facts.groups, school, now, g.clone());
        Ok(g)
    }

    /// Everyone of the school with their policy facts (role, classes),
    /// remembered for up to a minute: who a pupil may write to is worked
    /// out from it on every compose page.
    pub(crate) async fn people_remembered(
        &self,
        school: SchoolId,
    ) -> Result<Arc<Vec<(UserSummary, PersonFacts)>>, AppError> {
        let now = self.now();
        if let Some(p) = fresh(&self.facts.people, &school, now, ROSTER_TTL_SECS) {
            return Ok(p);
        }
        let p = Arc::new(self.store.school_people_facts(school).await?);
        remember(&self.facts.people, school, now, p.clone());
        Ok(p)
    }

    /// The school's latest published news (newest first, `NEWS_KEPT` at
    /// most), remembered for `DAILY_TTL_SECS`. Callers drop the items whose
    /// `publish_until` has passed since.
    pub(crate) async fn news_remembered(
        &self,
        school: SchoolId,
    ) -> Result<Arc<Vec<NewsRow>>, AppError> {
        let now = self.now();
        if let Some(n) = fresh(&self.facts.news, &school, now, DAILY_TTL_SECS) {
            return Ok(n);
        }
        let n = Arc::new(
            self.store
                .school_news(school, now, false, NEWS_KEPT)
                .await?,
        );
        remember(&self.facts.news, school, now, n.clone());
        Ok(n)
    }

    /// Homework of one class or group due from `from` to `to` (inclusive),
    /// scheduled ones included: callers keep those whose `publish_at` has
    /// come. Remembered for `DAILY_TTL_SECS`.
    pub(crate) async fn homework_remembered(
        &self,
        school: SchoolId,
        target: Target,
        from: Day,
        to: Day,
    ) -> Result<Arc<Vec<LessonRow>>, AppError> {
        let now = self.now();
        let key = (school, target, from);
        if let Some(h) = fresh(&self.facts.homework, &key, now, DAILY_TTL_SECS) {
            return Ok(h);
        }
        let cohort = Cohorts::of(target);
        let due = self
            .store
            .homework_due(school, &cohort, &from.iso(), &to.iso(), i64::MAX, None)
            .await?;
        let h = Arc::new(due.into_iter().map(|d| d.lesson).collect::<Vec<_>>());
        remember(&self.facts.homework, key, now, h.clone());
        Ok(h)
    }
}
