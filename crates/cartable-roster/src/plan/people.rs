//! The people an import deals with: everyone of the school (from the
//! snapshot) plus everyone the file creates, and how a line finds "its"
//! person among them. Matching never crosses roles.

use std::collections::{HashMap, HashSet};

use cartable_domain::names::{fold_key, BirthDate, ExternalId, PersonName};
use cartable_domain::roster::{GuardianRecord, PersonRecord, PersonRef, SnapshotPerson};
use cartable_domain::{ClassId, GroupId, Role, UserId};

use super::places::Place;

/// A value from the file, with the line that first gave it (the line the
/// resulting change is reported on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Given<T> {
    pub value: T,
    pub line: usize,
}

/// What the file says about one person, all its lines merged.
#[derive(Debug, Default)]
pub(super) struct Wanted {
    /// First line whose subject is this person (None: only named as a guardian).
    pub first_line: Option<usize>,
    /// (last, first) as the first line writes them.
    pub names: Option<(PersonName, PersonName)>,
    /// (last, first) as a pupil's row names this guardian.
    pub guardian_names: Option<(PersonName, PersonName)>,
    /// The line that created this person (people new in this import).
    pub created_on: Option<usize>,
    pub external_id: Option<Given<ExternalId>>,
    pub birth_date: Option<Given<BirthDate>>,
    pub email: Option<Given<String>>,
    /// Teacher's subject(s) or staff's function.
    pub subject: Option<Given<String>>,
    pub class: Option<Given<Place<ClassId>>>,
    pub groups: Vec<Given<Place<GroupId>>>,
    /// Parent: children named by a parents' file.
    pub children: Vec<Given<PersonRef>>,
    /// Pupil: guardians (entry indices) named on its rows.
    pub guardians: Vec<Given<usize>>,
    pub teachings: Vec<Given<Place<ClassId>>>,
    pub heads: Vec<Given<Place<ClassId>>>,
    /// Teacher: groups taught.
    pub teaching_groups: Vec<Given<Place<GroupId>>>,
}

/// One person, existing or new, with what identifies them for matching.
/// The identity grows as lines are merged (an id or birth date given by a
/// later line), so that the next lines find the same person.
#[derive(Debug)]
pub(super) struct Entry {
    pub slot: PersonRef,
    pub role: Role,
    /// Index in the snapshot's people.
    pub before: Option<usize>,
    last_key: String,
    first_key: String,
    external_id: Option<String>,
    birth_date: Option<BirthDate>,
    /// Lower case: addresses are compared without case.
    email: Option<String>,
    /// Parent: children linked now or by this import.
    pub children: HashSet<PersonRef>,
    ordered: bool,
    pub wanted: Wanted,
}

impl Entry {
    fn from_snapshot(index: usize, p: &SnapshotPerson) -> Entry {
        Entry {
            slot: PersonRef::Existing(p.id),
            role: p.role,
            before: Some(index),
            last_key: fold_key(&p.last_name),
            first_key: fold_key(&p.first_name),
            external_id: p.external_id.clone().filter(|e| !e.trim().is_empty()),
            birth_date: p
                .birth_date
                .as_deref()
                .and_then(|d| BirthDate::parse(d).ok()),
            email: p.email.as_deref().map(str::to_lowercase),
            children: p.children.iter().map(|&c| PersonRef::Existing(c)).collect(),
            ordered: false,
            wanted: Wanted::default(),
        }
    }

    fn email_is(&self, email: &str) -> bool {
        self.email.as_deref() == Some(email.to_lowercase().as_str())
    }
}

/// Everyone, in one list: snapshot people first, then those created here.
pub(super) struct People<'s> {
    snapshot: &'s [SnapshotPerson],
    pub entries: Vec<Entry>,
    /// Entry indices in the order lines first involved them: the order of
    /// the CreatePerson/UpdatePerson operations.
    pub order: Vec<usize>,
    created: usize,
    // Indexes, so that a 20,000-line file against a 20,000-person school
    // does not compare every line with every person.
    by_name: HashMap<(Role, String, String), Vec<usize>>,
    by_external_id: HashMap<(Role, String), usize>,
    by_user: HashMap<UserId, usize>,
}

impl<'s> People<'s> {
    pub fn new(snapshot: &'s [SnapshotPerson]) -> Self {
        let mut people = People {
            snapshot,
            entries: Vec::with_capacity(snapshot.len()),
            order: Vec::new(),
            created: 0,
            by_name: HashMap::new(),
            by_external_id: HashMap::new(),
            by_user: HashMap::new(),
        };
        for (i, p) in snapshot.iter().enumerate() {
            people.by_user.entry(p.id).or_insert(i);
            people.push(Entry::from_snapshot(i, p));
        }
        people
    }

    fn push(&mut self, entry: Entry) -> usize {
        let i = self.entries.len();
        let name_key = (entry.role, entry.last_key.clone(), entry.first_key.clone());
        self.by_name.entry(name_key).or_default().push(i);
        if let Some(id) = &entry.external_id {
            self.by_external_id
                .entry((entry.role, id.clone()))
                .or_insert(i);
        }
        self.entries.push(entry);
        i
    }

    /// Renames an entry for matching (a new person named by a guardian
    /// column, or a person found by id whose name the file changes).
    fn set_name_keys(&mut self, i: usize, last: &PersonName, first: &PersonName) {
        let e = &self.entries[i];
        let old = (e.role, e.last_key.clone(), e.first_key.clone());
        let new = (e.role, fold_key(last.as_str()), fold_key(first.as_str()));
        if old == new {
            return;
        }
        if let Some(list) = self.by_name.get_mut(&old) {
            list.retain(|&j| j != i);
        }
        self.by_name.entry(new.clone()).or_default().push(i);
        let e = &mut self.entries[i];
        e.last_key = new.1;
        e.first_key = new.2;
    }

    /// Records what a line adds to a person's identity (never overwrites).
    fn learn(
        &mut self,
        i: usize,
        external_id: Option<&ExternalId>,
        birth_date: Option<BirthDate>,
        email: Option<&str>,
    ) {
        let e = &mut self.entries[i];
        if e.external_id.is_none() {
            if let Some(id) = external_id {
                e.external_id = Some(id.to_string());
                self.by_external_id
                    .entry((e.role, id.to_string()))
                    .or_insert(i);
            }
        }
        if e.birth_date.is_none() {
            e.birth_date = birth_date;
        }
        if e.email.is_none() {
            e.email = email.map(str::to_lowercase);
        }
    }

    fn named(&self, role: Role, last: &PersonName, first: &PersonName) -> &[usize] {
        let key = (role, fold_key(last.as_str()), fold_key(first.as_str()));
        self.by_name.get(&key).map_or(&[], Vec::as_slice)
    }

    pub fn before(&self, i: usize) -> Option<&'s SnapshotPerson> {
        self.entries[i].before.map(|b| &self.snapshot[b])
    }

    /// "Martin Zoé", as the file or the school writes it.
    pub fn who(&self, i: usize) -> String {
        let e = &self.entries[i];
        if let Some((last, first)) = e.wanted.names.as_ref().or(e.wanted.guardian_names.as_ref()) {
            return format!("{last} {first}");
        }
        self.before(i)
            .map(|p| format!("{} {}", p.last_name, p.first_name))
            .unwrap_or_default()
    }

    pub fn index_of(&self, slot: PersonRef) -> Option<usize> {
        match slot {
            PersonRef::Existing(id) => self.by_user.get(&id).copied(),
            PersonRef::New(n) => Some(self.snapshot.len() + n),
        }
    }

    fn with_external_id(&self, role: Role, id: &ExternalId) -> Option<usize> {
        self.by_external_id.get(&(role, id.to_string())).copied()
    }

    /// Same role and folded name, and no id telling them apart.
    fn namesakes(&self, role: Role, person: &PersonRecord) -> Vec<usize> {
        self.named(role, &person.last_name, &person.first_name)
            .iter()
            .copied()
            .filter(|&i| self.entries[i].external_id.is_none() || person.external_id.is_none())
            .collect()
    }

    /// A pupil: by id; else by name and birth date; without a birth date,
    /// by name only when a single pupil has it.
    pub fn find_pupil(&self, person: &PersonRecord) -> Result<Option<usize>, String> {
        if let Some(found) = person
            .external_id
            .as_ref()
            .and_then(|id| self.with_external_id(Role::Pupil, id))
        {
            return Ok(Some(found));
        }
        let namesakes = self.namesakes(Role::Pupil, person);
        let who = format!("{} {}", person.last_name, person.first_name);
        let Some(date) = person.birth_date else {
            return single(namesakes, || {
                format!("plusieurs élèves s'appellent {who} : ajoutez la date de naissance ou l'identifiant pour les distinguer")
            });
        };
        let same_date: Vec<usize> = namesakes
            .iter()
            .copied()
            .filter(|&i| self.entries[i].birth_date == Some(date))
            .collect();
        if !same_date.is_empty() {
            return single(same_date, || {
                format!(
                    "plusieurs élèves s'appellent {who} et sont nés le {} : ajoutez l'identifiant pour les distinguer",
                    date.french()
                )
            });
        }
        // A pupil known without a birth date: the file completes it.
        let undated = namesakes
            .into_iter()
            .filter(|&i| self.entries[i].birth_date.is_none())
            .collect();
        single(undated, || {
            format!("plusieurs élèves s'appellent {who} sans date de naissance connue : ajoutez l'identifiant pour les distinguer")
        })
    }

    /// A parent, teacher or staff member: by id, else by name; namesakes are
    /// told apart by email, then (parents) by a child in common.
    pub fn find_adult(
        &self,
        role: Role,
        person: &PersonRecord,
        children: &[PersonRef],
    ) -> Result<Option<usize>, String> {
        if let Some(found) = person
            .external_id
            .as_ref()
            .and_then(|id| self.with_external_id(role, id))
        {
            return Ok(Some(found));
        }
        let mut namesakes = self.namesakes(role, person);
        if namesakes.len() > 1 {
            if let Some(email) = &person.email {
                narrow(&mut namesakes, |i| self.entries[i].email_is(email));
            }
        }
        if namesakes.len() > 1 && !children.is_empty() {
            narrow(&mut namesakes, |i| {
                children
                    .iter()
                    .any(|c| self.entries[i].children.contains(c))
            });
        }
        let who = format!("{} {}", person.last_name, person.first_name);
        single(namesakes, || {
            let (people, hint) = match role {
                Role::Parent => ("responsables", "le courriel, l'identifiant ou un enfant"),
                Role::Teacher => ("enseignants", "le courriel ou l'identifiant"),
                _ => ("personnels", "le courriel ou l'identifiant"),
            };
            format!("plusieurs {people} s'appellent {who} : ajoutez {hint} pour les distinguer")
        })
    }

    /// A guardian named on a pupil's row is an existing parent (or one this
    /// import already created) with the same name and no other email.
    pub fn find_guardian(
        &self,
        g: &GuardianRecord,
        pupil: Option<usize>,
        label: &str,
    ) -> Result<Option<usize>, String> {
        let mut namesakes: Vec<usize> = self
            .named(Role::Parent, &g.last_name, &g.first_name)
            .iter()
            .copied()
            .filter(|&i| match (&g.email, &self.entries[i].email) {
                (Some(mine), Some(_)) => self.entries[i].email_is(mine),
                _ => true,
            })
            .collect();
        if namesakes.len() > 1 {
            if let Some(email) = &g.email {
                narrow(&mut namesakes, |i| self.entries[i].email_is(email));
            }
        }
        if let (true, Some(p)) = (namesakes.len() > 1, pupil) {
            let child = self.entries[p].slot;
            narrow(&mut namesakes, |i| {
                self.entries[i].children.contains(&child)
            });
        }
        single(namesakes, || {
            format!(
                "{label} : plusieurs responsables s'appellent {} {} : ajoutez son courriel pour les distinguer",
                g.last_name, g.first_name
            )
        })
    }

    /// Why a later line cannot be the same person as the earlier one, if it
    /// contradicts it.
    pub fn contradiction(&self, i: usize, person: &PersonRecord) -> Option<String> {
        let e = &self.entries[i];
        let first_line = e.wanted.first_line?;
        let clash = |what: &str, here: String, there: String| {
            format!("même personne qu'à la ligne {first_line}, avec {what} : « {here} » ici, « {there} » à la ligne {first_line}")
        };
        if let Some((last, first)) = &e.wanted.names {
            if fold_key(&format!("{last}{first}"))
                != fold_key(&format!("{}{}", person.last_name, person.first_name))
            {
                let here = format!("{} {}", person.last_name, person.first_name);
                return Some(clash("un autre nom", here, format!("{last} {first}")));
            }
        }
        if let (Some(here), Some(there)) = (person.birth_date, &e.wanted.birth_date) {
            if here != there.value {
                return Some(clash(
                    "une autre date de naissance",
                    here.french(),
                    there.value.french(),
                ));
            }
        }
        if let (Some(here), Some(there)) = (&person.email, &e.wanted.email) {
            if !here.eq_ignore_ascii_case(&there.value) {
                return Some(clash(
                    "un autre courriel",
                    here.clone(),
                    there.value.clone(),
                ));
            }
        }
        None
    }

    /// The entry for a line's person: the one found, or a new one. Merges
    /// what the line says about the person.
    pub fn claim(
        &mut self,
        found: Option<usize>,
        role: Role,
        person: &PersonRecord,
        line: usize,
    ) -> usize {
        let i = found.unwrap_or_else(|| self.create(role, line));
        self.put_in_order(i);
        self.learn(
            i,
            person.external_id.as_ref(),
            person.birth_date,
            person.email.as_deref(),
        );
        if self.entries[i].wanted.first_line.is_none() {
            self.set_name_keys(i, &person.last_name, &person.first_name);
            let w = &mut self.entries[i].wanted;
            w.first_line = Some(line);
            w.names = Some((person.last_name.clone(), person.first_name.clone()));
        }
        let w = &mut self.entries[i].wanted;
        give(&mut w.external_id, person.external_id.clone(), line);
        give(&mut w.birth_date, person.birth_date, line);
        give(&mut w.email, person.email.clone(), line);
        i
    }

    /// The entry for a guardian: the parent found, or a new one.
    pub fn claim_guardian(
        &mut self,
        found: Option<usize>,
        g: &GuardianRecord,
        line: usize,
    ) -> usize {
        let i = found.unwrap_or_else(|| self.create(Role::Parent, line));
        self.put_in_order(i);
        self.learn(i, None, None, g.email.as_deref());
        let e = &self.entries[i];
        if e.wanted.guardian_names.is_none() {
            if e.before.is_none() && e.wanted.first_line.is_none() {
                self.set_name_keys(i, &g.last_name, &g.first_name);
            }
            self.entries[i].wanted.guardian_names =
                Some((g.last_name.clone(), g.first_name.clone()));
        }
        give(&mut self.entries[i].wanted.email, g.email.clone(), line);
        i
    }

    fn create(&mut self, role: Role, line: usize) -> usize {
        let slot = PersonRef::New(self.created);
        self.created += 1;
        self.push(Entry {
            slot,
            role,
            before: None,
            last_key: String::new(),
            first_key: String::new(),
            external_id: None,
            birth_date: None,
            email: None,
            children: HashSet::new(),
            ordered: false,
            wanted: Wanted {
                created_on: Some(line),
                ..Wanted::default()
            },
        })
    }

    fn put_in_order(&mut self, i: usize) {
        if !self.entries[i].ordered {
            self.entries[i].ordered = true;
            self.order.push(i);
        }
    }

    /// Pupils of the school with this folded name, in this class if given.
    pub fn pupils_named(
        &self,
        last: &PersonName,
        first: &PersonName,
        class: Option<ClassId>,
    ) -> Vec<usize> {
        self.named(Role::Pupil, last, first)
            .iter()
            .copied()
            .filter(|&i| class.is_none_or(|c| self.before(i).and_then(|p| p.class) == Some(c)))
            .collect()
    }

    pub fn pupil_with_external_id(&self, id: &ExternalId) -> Option<usize> {
        self.with_external_id(Role::Pupil, id)
    }
}

/// The one candidate, none, or an ambiguity explained by `why`.
fn single(candidates: Vec<usize>, why: impl FnOnce() -> String) -> Result<Option<usize>, String> {
    match candidates.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(why()),
    }
}

/// Keeps the candidates passing `keep`, unless none does.
fn narrow(candidates: &mut Vec<usize>, keep: impl Fn(usize) -> bool) {
    let kept: Vec<usize> = candidates.iter().copied().filter(|&i| keep(i)).collect();
    if !kept.is_empty() {
        *candidates = kept;
    }
}

/// Keeps the first value the file gives for a field.
fn give<T>(slot: &mut Option<Given<T>>, value: Option<T>, line: usize) {
    if slot.is_none() {
        *slot = value.map(|value| Given { value, line });
    }
}

/// Adds `value` unless already there (first line giving it wins).
pub(super) fn give_once<T: PartialEq>(list: &mut Vec<Given<T>>, value: T, line: usize) {
    if !list.iter().any(|g| g.value == value) {
        list.push(Given { value, line });
    }
}
