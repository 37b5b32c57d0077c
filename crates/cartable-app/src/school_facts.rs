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
//!   `DAILY_TTL_SECS`. Scheduled homework is kept with its publication time
//!   and filtered on every read, so it appears on time; scheduled news
//!   appears within `DAILY_TTL_SECS` of its time.
//! - a read that was in flight while a write forgot the school must not be
//!   remembered (it may predate the write): each forget bumps the school's
//!   generation, and a read is remembered only if the generation it started
//!   under is still current.

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
    /// Bumped by every forget of a school (see the module's last point).
    generations: Mutex<HashMap<SchoolId, u64>>,
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

impl SchoolFacts {
    /// The school's generation, read before asking the database.
    fn generation(&self, school: SchoolId) -> u64 {
        let generations = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        generations.get(&school).copied().unwrap_or(0)
    }

    fn bump(&self, school: SchoolId) {
        let mut generations = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        *generations.entry(school).or_insert(0) += 1;
    }

    /// Remembers `v` (read under `generation`) unless `school` was forgotten
    /// since. The generation lock is held while inserting, so a forget
    /// either comes first (and the value is dropped) or clears it after.
    fn remember<K: Hash + Eq, V>(
        &self,
        map: &Remembered<K, V>,
        school: SchoolId,
        generation: u64,
        key: K,
        now: i64,
        v: V,
    ) {
        let generations = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        if generations.get(&school).copied().unwrap_or(0) != generation {
            return;
        }
        let mut map = lock(map);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (now, v));
    }

    /// Forgets everything this node remembers of `school` (after a roster import).
    pub fn forget(&self, school: SchoolId) {
        self.bump(school);
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
        self.bump(school);
        lock(&self.news).remove(&school);
    }

    /// After a lesson of `school` is written, changed or deleted on this node.
    pub fn forget_homework(&self, school: SchoolId) {
        self.bump(school);
        lock(&self.homework).retain(|(s, _, _), _| *s != school);
    }
}

impl App {
    /// Reads `key` of `map` through this node's memory: a fresh remembered
    /// value, or `read` from the database, remembered unless the school was
    /// forgotten while reading.
    async fn through_memory<K, V, F>(
        &self,
        map: &Remembered<K, V>,
        school: SchoolId,
        key: K,
        ttl: i64,
        read: F,
    ) -> Result<V, AppError>
    where
        K: Hash + Eq,
        V: Clone,
        F: std::future::Future<Output = Result<V, cartable_store::StoreError>>,
    {
        let now = self.now();
        if let Some(v) = fresh(map, &key, now, ttl) {
            return Ok(v);
        }
        let generation = self.facts.generation(school);
        let v = read.await?;
        self.facts
            .remember(map, school, generation, key, now, v.clone());
        Ok(v)
    }

    /// The school, remembered for up to a minute.
    pub async fn school_remembered(&self, school: SchoolId) -> Result<Option<School>, AppError> {
        let read = self.store.school(school);
        self.through_memory(&self.facts.schools, school, school, ROSTER_TTL_SECS, read)
            .await
    }

    /// A class's teachers, remembered for up to a minute.
    pub async fn class_teachers_remembered(
        &self,
        school: SchoolId,
        class: ClassId,
    ) -> Result<Vec<TeacherOfClass>, AppError> {
        let read = self.store.class_teachers(school, class);
        let key = (school, class);
        self.through_memory(&self.facts.teachers, school, key, ROSTER_TTL_SECS, read)
            .await
    }

    /// The school's classes with their sizes, remembered for up to a minute.
    pub async fn classes_remembered(
        &self,
        school: SchoolId,
    ) -> Result<Arc<Vec<ClassSummary>>, AppError> {
        let read = async { Ok(Arc::new(self.store.classes(school).await?)) };
        self.through_memory(&self.facts.classes, school, school, ROSTER_TTL_SECS, read)
            .await
    }

    /// The school's groups with their sizes, remembered for up to a minute.
    pub async fn groups_remembered(
        &self,
        school: SchoolId,
    ) -> Result<Arc<Vec<GroupSummary>>, AppError> {
        let read = async { Ok(Arc::new(self.store.groups(school).await?)) };
        self.through_memory(&self.facts.groups, school, school, ROSTER_TTL_SECS, read)
            .await
    }

    /// Everyone of the school with their policy facts (role, classes),
    /// remembered for up to a minute: who a pupil may write to is worked
    /// out from it on every compose page.
    pub(crate) async fn people_remembered(
        &self,
        school: SchoolId,
    ) -> Result<Arc<Vec<(UserSummary, PersonFacts)>>, AppError> {
        let read = async { Ok(Arc::new(self.store.school_people_facts(school).await?)) };
        self.through_memory(&self.facts.people, school, school, ROSTER_TTL_SECS, read)
            .await
    }

    /// The school's latest published news (newest first, `NEWS_KEPT` at
    /// most), remembered for `DAILY_TTL_SECS`. Callers drop the items whose
    /// `publish_until` has passed since.
    pub(crate) async fn news_remembered(
        &self,
        school: SchoolId,
    ) -> Result<Arc<Vec<NewsRow>>, AppError> {
        let now = self.now();
        let read = async {
            let news = self.store.school_news(school, now, false, NEWS_KEPT);
            Ok(Arc::new(news.await?))
        };
        self.through_memory(&self.facts.news, school, school, DAILY_TTL_SECS, read)
            .await
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
        let read = async {
            let cohort = Cohorts::of(target);
            let (from, to) = (from.iso(), to.iso());
            // Every publication time (i64::MAX as "now"): filtered on read.
            let due = self
                .store
                .homework_due(school, &cohort, &from, &to, i64::MAX, None);
            Ok(Arc::new(due.await?.into_iter().map(|d| d.lesson).collect()))
        };
        let key = (school, target, from);
        self.through_memory(&self.facts.homework, school, key, DAILY_TTL_SECS, read)
            .await
    }
}
