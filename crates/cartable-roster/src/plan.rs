//! Compares a parsed file with the school as it is and says, line by line,
//! what an import would do, plus the operations that do it. Pure: the same
//! file against the snapshot its own import produced plans nothing.
//!
//! Two passes: every line first finds (or creates) its person and merges
//! what it says into that person's wanted state (`take_*`); then each
//! person's wanted state is compared with the snapshot (`report`), which
//! gives both the operations and the change lists of the lines.

mod people;
mod places;
mod report;

use cartable_domain::names::{fold_key, ClassName, Subject};
use cartable_domain::roster::{
    ChildRef, GuardianRecord, LineOutcome, LineReport, PersonRecord, PersonRef, RosterPlan,
    RosterRecord, RosterSnapshot,
};
use cartable_domain::{ClassId, GroupId, Role};

use crate::parse::ParsedRoster;
use people::{give_once, Given, People};
use places::{Place, Places};

/// Plans the import of `parsed` into the school described by `snapshot`.
pub fn plan(parsed: &ParsedRoster, snapshot: &RosterSnapshot) -> RosterPlan {
    let mut planner = Planner::new(snapshot, Scope::of(parsed));
    let taken: Vec<(usize, String, Result<usize, String>)> = parsed
        .lines
        .iter()
        .map(|line| {
            let taken = match &line.record {
                Ok(record) => planner.take(line.line, record),
                Err(reason) => Err(reason.clone()),
            };
            (line.line, line.who.clone(), taken)
        })
        .collect();
    let (ops, changes) = report::operations(&planner);
    let lines = taken
        .into_iter()
        .map(|(line, who, taken)| LineReport {
            line,
            who,
            outcome: match taken {
                Err(reason) => LineOutcome::Rejected(reason),
                Ok(entry) => report::outcome(&planner, entry, line, &changes),
            },
        })
        .collect();
    RosterPlan {
        kind: parsed.kind,
        lines,
        ops,
    }
}

/// What the file as a whole manages. A replacing operation (groups,
/// teachings, head teachers) is only planned when the file carries that
/// information at all: an export without a groups column must not empty
/// every pupil's groups. (Known from the records: a column that is empty on
/// every line is taken as absent.)
#[derive(Debug, Clone, Copy, Default)]
struct Scope {
    groups: bool,
    teachings: bool,
    heads: bool,
}

impl Scope {
    fn of(parsed: &ParsedRoster) -> Scope {
        let mut scope = Scope::default();
        for record in parsed.lines.iter().filter_map(|l| l.record.as_ref().ok()) {
            match record {
                RosterRecord::Pupil { groups, .. } => scope.groups |= !groups.is_empty(),
                // The same "Classe ou regroupement" column names classes and
                // groups: a file that manages one manages the other.
                RosterRecord::Teacher {
                    classes,
                    head_of,
                    groups,
                    ..
                } => {
                    scope.teachings |= !classes.is_empty() || !groups.is_empty();
                    scope.heads |= !head_of.is_empty();
                }
                _ => {}
            }
        }
        scope
    }
}

struct Planner<'s> {
    scope: Scope,
    people: People<'s>,
    classes: Places<ClassId>,
    groups: Places<GroupId>,
}

impl<'s> Planner<'s> {
    fn new(snapshot: &'s RosterSnapshot, scope: Scope) -> Self {
        Planner {
            scope,
            people: People::new(&snapshot.people),
            classes: Places::new(&snapshot.classes),
            groups: Places::new(&snapshot.groups),
        }
    }

    /// Finds the line's person and merges the line into their wanted state;
    /// returns the person's entry, or why the line is rejected. A rejected
    /// line changes nothing: every check comes before the first change.
    fn take(&mut self, line: usize, record: &RosterRecord) -> Result<usize, String> {
        match record {
            RosterRecord::Pupil {
                person,
                class,
                groups,
                guardians,
            } => self.take_pupil(line, person, class.as_ref(), groups, guardians),
            RosterRecord::Parent { person, children } => self.take_parent(line, person, children),
            RosterRecord::Teacher {
                person,
                subject,
                classes,
                head_of,
                groups,
            } => self.take_teacher(line, person, subject.as_ref(), classes, head_of, groups),
            RosterRecord::Staff { person, function } => {
                self.take_staff(line, person, function.as_ref())
            }
        }
    }

    fn take_pupil(
        &mut self,
        line: usize,
        person: &PersonRecord,
        class: Option<&ClassName>,
        groups: &[ClassName],
        guardians: &[GuardianRecord],
    ) -> Result<usize, String> {
        let found = self.people.find_pupil(person)?;
        if let Some(i) = found {
            self.check_same_person(i, person)?;
            self.check_same_class(i, class)?;
        }
        let guardians = distinct_guardians(guardians);
        let guardians_found = guardians
            .iter()
            .enumerate()
            .map(|(n, g)| {
                self.people
                    .find_guardian(g, found, &format!("responsable {}", n + 1))
            })
            .collect::<Result<Vec<_>, String>>()?;

        // Checks done: from here on the line is accepted.
        let i = self.people.claim(found, Role::Pupil, person, line);
        if let Some(class) = class {
            let place = self.classes.find_or_create(class);
            let wanted = &mut self.people.entries[i].wanted;
            if wanted.class.is_none() {
                wanted.class = Some(Given { value: place, line });
            }
        }
        for group in groups {
            let place = self.groups.find_or_create(group);
            give_once(&mut self.people.entries[i].wanted.groups, place, line);
        }
        let pupil = self.people.entries[i].slot;
        for (g, found) in guardians.into_iter().zip(guardians_found) {
            let parent = self.people.claim_guardian(found, g, line);
            self.people.entries[parent].children.insert(pupil);
            give_once(&mut self.people.entries[i].wanted.guardians, parent, line);
        }
        Ok(i)
    }

    fn take_parent(
        &mut self,
        line: usize,
        person: &PersonRecord,
        children: &[ChildRef],
    ) -> Result<usize, String> {
        let children = self.find_children(children)?;
        let found = self.people.find_adult(Role::Parent, person, &children)?;
        if let Some(i) = found {
            self.check_same_person(i, person)?;
        }
        let i = self.people.claim(found, Role::Parent, person, line);
        for child in children {
            self.people.entries[i].children.insert(child);
            give_once(&mut self.people.entries[i].wanted.children, child, line);
        }
        Ok(i)
    }

    #[allow(clippy::too_many_arguments)]
    fn take_teacher(
        &mut self,
        line: usize,
        person: &PersonRecord,
        subject: Option<&Subject>,
        classes: &[ClassName],
        head_of: &[ClassName],
        groups: &[ClassName],
    ) -> Result<usize, String> {
        let (class_names, mut group_names) = self.classes_or_groups(classes, groups);
        let classes = self.known_classes(&class_names)?;
        // A professeur principal is one of a class: a group named there (by
        // "oui" on a row of groups) is no head teaching.
        let (head_names, _) = self.classes_or_groups(head_of, groups);
        let heads = self.known_classes(&head_names)?;
        for name in groups {
            push_unique_name(&mut group_names, name);
        }
        let found = self.people.find_adult(Role::Teacher, person, &[])?;
        if let Some(i) = found {
            self.check_same_person(i, person)?;
        }
        let i = self.people.claim(found, Role::Teacher, person, line);
        let wanted = &mut self.people.entries[i].wanted;
        if let Some(subject) = subject {
            add_subject(&mut wanted.subject, subject, line);
        }
        for class in classes {
            give_once(&mut wanted.teachings, class, line);
        }
        for class in heads {
            give_once(&mut wanted.heads, class, line);
        }
        for name in group_names {
            let place = self.groups.find_or_create(name);
            give_once(
                &mut self.people.entries[i].wanted.teaching_groups,
                place,
                line,
            );
        }
        Ok(i)
    }

    /// Splits a teacher's `Classe` cells into class names and group names: a
    /// name that is no class but a group (of the school, created earlier in
    /// this file, or named in the row's own `Groupes` cells) is a group.
    /// Unknown names stay with the classes, to be reported as such.
    fn classes_or_groups<'n>(
        &self,
        names: &'n [ClassName],
        row_groups: &[ClassName],
    ) -> (Vec<ClassName>, Vec<&'n ClassName>) {
        let mut classes = Vec::new();
        let mut groups = Vec::new();
        for name in names {
            let is_group = self.classes.find(name).is_none()
                && (self.groups.find(name).is_some()
                    || row_groups
                        .iter()
                        .any(|g| fold_key(g.as_str()) == fold_key(name.as_str())));
            if is_group {
                groups.push(name);
            } else {
                classes.push(name.clone());
            }
        }
        (classes, groups)
    }

    fn take_staff(
        &mut self,
        line: usize,
        person: &PersonRecord,
        function: Option<&Subject>,
    ) -> Result<usize, String> {
        let found = self.people.find_adult(Role::Staff, person, &[])?;
        if let Some(i) = found {
            self.check_same_person(i, person)?;
            self.check_same_function(i, function)?;
        }
        let i = self.people.claim(found, Role::Staff, person, line);
        let wanted = &mut self.people.entries[i].wanted;
        if wanted.subject.is_none() {
            wanted.subject = function.map(|f| Given {
                value: f.to_string(),
                line,
            });
        }
        Ok(i)
    }

    fn check_same_person(&self, i: usize, person: &PersonRecord) -> Result<(), String> {
        match self.people.contradiction(i, person) {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    /// A pupil is in one class: a second line putting them elsewhere is
    /// a mistake in the file, not a move.
    fn check_same_class(&self, i: usize, class: Option<&ClassName>) -> Result<(), String> {
        let wanted = &self.people.entries[i].wanted;
        let (Some(there), Some(here), Some(first_line)) = (&wanted.class, class, wanted.first_line)
        else {
            return Ok(());
        };
        let there_name = self.classes.name(there.value);
        if fold_key(&there_name) == fold_key(here.as_str()) {
            return Ok(());
        }
        Err(format!(
            "même personne qu'à la ligne {first_line}, avec une autre classe : « {here} » ici, « {there_name} » à la ligne {first_line}"
        ))
    }

    fn check_same_function(&self, i: usize, function: Option<&Subject>) -> Result<(), String> {
        let wanted = &self.people.entries[i].wanted;
        let (Some(there), Some(here), Some(first_line)) =
            (&wanted.subject, function, wanted.first_line)
        else {
            return Ok(());
        };
        if fold_key(&there.value) == fold_key(here.as_str()) {
            return Ok(());
        }
        Err(format!(
            "même personne qu'à la ligne {first_line}, avec une autre fonction : « {here} » ici, « {} » à la ligne {first_line}",
            there.value
        ))
    }

    /// Teachers' and parents' files name classes; only pupils' files create them.
    fn known_classes(&self, names: &[ClassName]) -> Result<Vec<Place<ClassId>>, String> {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for name in names {
            match self.classes.find(name) {
                Some(place) => known.push(place),
                None => unknown.push(format!("« {name} »")),
            }
        }
        match unknown.len() {
            0 => Ok(known),
            1 => Err(format!(
                "classe inconnue {} : importez d'abord les élèves",
                unknown[0]
            )),
            _ => Err(format!(
                "classes inconnues {} : importez d'abord les élèves",
                unknown.join(", ")
            )),
        }
    }

    /// The pupils a parent's row points at; all must exist already.
    fn find_children(&self, refs: &[ChildRef]) -> Result<Vec<PersonRef>, String> {
        let mut found = Vec::new();
        let mut problems = Vec::new();
        for child in refs {
            match self.find_child(child) {
                Ok(i) => {
                    let slot = self.people.entries[i].slot;
                    if !found.contains(&slot) {
                        found.push(slot);
                    }
                }
                Err(why) => problems.push(why),
            }
        }
        if problems.is_empty() {
            Ok(found)
        } else {
            Err(problems.join(" ; "))
        }
    }

    fn find_child(&self, child: &ChildRef) -> Result<usize, String> {
        match child {
            ChildRef::ExternalId(id) => self.people.pupil_with_external_id(id).ok_or_else(|| {
                format!("enfant introuvable : aucun élève n'a l'identifiant « {id} »")
            }),
            ChildRef::Name {
                last_name,
                first_name,
                class,
            } => {
                let class_id = match class {
                    None => None,
                    Some(name) => Some(self.existing_class(name)?),
                };
                let who = format!("{last_name} {first_name}");
                let candidates = self.people.pupils_named(last_name, first_name, class_id);
                match (candidates.as_slice(), class) {
                    ([one], _) => Ok(*one),
                    ([], Some(class)) => Err(format!("enfant introuvable : aucun élève {who} en {class}")),
                    ([], None) => Err(format!("enfant introuvable : aucun élève {who}")),
                    (_, _) => Err(format!(
                        "enfant ambigu : plusieurs élèves s'appellent {who} ; indiquez la classe ou l'identifiant de l'enfant"
                    )),
                }
            }
        }
    }

    fn existing_class(&self, name: &ClassName) -> Result<ClassId, String> {
        match self.classes.find(name) {
            Some(Place::Existing(id)) => Ok(id),
            _ => Err(format!(
                "classe inconnue « {name} » : importez d'abord les élèves"
            )),
        }
    }
}

fn push_unique_name<'n>(names: &mut Vec<&'n ClassName>, name: &'n ClassName) {
    if !names
        .iter()
        .any(|n| fold_key(n.as_str()) == fold_key(name.as_str()))
    {
        names.push(name);
    }
}

/// R1 and R2 naming the same person (same name, no other email) are one
/// guardian: matching them separately would create two accounts.
fn distinct_guardians(guardians: &[GuardianRecord]) -> Vec<&GuardianRecord> {
    let mut kept: Vec<&GuardianRecord> = Vec::new();
    for g in guardians {
        let same = |k: &&GuardianRecord| {
            fold_key(k.last_name.as_str()) == fold_key(g.last_name.as_str())
                && fold_key(k.first_name.as_str()) == fold_key(g.first_name.as_str())
                && match (&k.email, &g.email) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => true,
                }
        };
        if !kept.iter().any(same) {
            kept.push(g);
        }
    }
    kept
}

/// A teacher listed on several lines with different subjects teaches them
/// all: "Mathématiques, Physique-chimie" (as long as it fits).
fn add_subject(slot: &mut Option<Given<String>>, subject: &Subject, line: usize) {
    let Some(given) = slot else {
        *slot = Some(Given {
            value: subject.to_string(),
            line,
        });
        return;
    };
    let key = fold_key(subject.as_str());
    if given.value.split(", ").any(|s| fold_key(s) == key) {
        return;
    }
    let combined = format!("{}, {subject}", given.value);
    if combined.chars().count() <= Subject::MAX_CHARS {
        given.value = combined;
    }
}

#[cfg(test)]
mod tests;
