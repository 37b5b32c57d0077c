//! A per-node memory of a school's slow-changing facts that every pupil's
//! home page shows: the school's name and each class's teachers. At 8:00 a
//! school's 800 pupils open that page within minutes; these facts change a
//! few times a year (a roster import), so each node reads them once a minute
//! instead of once per page. A roster import on this node forgets them at
//! once; other nodes follow within `TTL_SECS`.

use std::collections::HashMap;
use std::sync::Mutex;

use cartable_domain::{ClassId, SchoolId};
use cartable_store::{School, TeacherOfClass};

use crate::{App, AppError};

pub const TTL_SECS: i64 = 60;
/// Entries kept at most per kind; when full, the memory starts over.
const MAX_ENTRIES: usize = 50_000;

/// Values with the time they were read.
type Remembered<K, V> = Mutex<HashMap<K, (i64, V)>>;

#[derive(Default)]
pub struct SchoolFacts {
    schools: Remembered<SchoolId, Option<School>>,
    teachers: Remembered<(SchoolId, ClassId), Vec<TeacherOfClass>>,
}

fn fresh<K: std::hash::Hash + Eq, V: Clone>(
    map: &Remembered<K, V>,
    key: &K,
    now: i64,
) -> Option<V> {
    let map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.get(key)
        .filter(|(at, _)| now - at < TTL_SECS)
        .map(|(_, v)| v.clone())
}

fn remember<K: std::hash::Hash + Eq, V>(map: &Remembered<K, V>, key: K, now: i64, v: V) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(key, (now, v));
}

impl SchoolFacts {
    /// Forgets what this node remembers of `school` (after a roster import).
    pub fn forget(&self, school: SchoolId) {
        self.schools
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&school);
        self.teachers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(s, _), _| *s != school);
    }
}

impl App {
    /// The school, remembered for up to a minute.
    pub async fn school_remembered(&self, school: SchoolId) -> Result<Option<School>, AppError> {
        let now = self.now();
        if let Some(s) = fresh(&self.facts.schools, &school, now) {
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
        if let Some(t) = fresh(&self.facts.teachers, &(school, class), now) {
            return Ok(t);
        }
        let t = self.store.class_teachers(school, class).await?;
        remember(&self.facts.teachers, (school, class), now, t.clone());
        Ok(t)
    }
}
