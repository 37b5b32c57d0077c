//! Second pass: each person's wanted state against the snapshot gives the
//! operations, and the French change descriptions, each reported on the
//! line that brought the change.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cartable_domain::names::{BirthDate, ExternalId, PersonName};
use cartable_domain::roster::{
    ClassRef, GroupRef, LineOutcome, PersonRecord, PersonRef, RosterOp, SnapshotPerson,
};
use cartable_domain::{ClassId, GroupId, Role};

use super::people::{Entry, Given};
use super::places::Place;
use super::Planner;

/// Change descriptions by line number.
#[derive(Debug, Default)]
pub(super) struct Changes(HashMap<usize, Vec<String>>);

impl Changes {
    fn add(&mut self, line: usize, text: String) {
        self.0.entry(line).or_default().push(text);
    }

    fn on(&self, line: usize) -> &[String] {
        self.0.get(&line).map_or(&[], Vec::as_slice)
    }
}

/// The operations, in the order the store expects: classes and groups,
/// then people in line order, then links.
pub(super) fn operations(p: &Planner) -> (Vec<RosterOp>, Changes) {
    let mut ops: Vec<RosterOp> = Vec::new();
    ops.extend(
        p.classes
            .created
            .iter()
            .map(|name| RosterOp::CreateClass { name: name.clone() }),
    );
    ops.extend(
        p.groups
            .created
            .iter()
            .map(|name| RosterOp::CreateGroup { name: name.clone() }),
    );
    let mut links = Vec::new();
    let mut changes = Changes::default();
    for &i in &p.people.order {
        let before = p.people.before(i);
        let said = field_changes(p, i, before);
        match before {
            None => ops.extend(create_person(&p.people.entries[i])),
            Some(before) if !said.is_empty() => {
                ops.extend(update_person(&p.people.entries[i], before))
            }
            Some(_) => {}
        }
        for (line, text) in said {
            changes.add(line, text);
        }
        match p.people.entries[i].role {
            Role::Pupil => pupil_links(p, i, before, &mut links, &mut changes),
            Role::Parent => parent_links(p, i, before, &mut links, &mut changes),
            Role::Teacher => teacher_links(p, i, before, &mut links, &mut changes),
            _ => {}
        }
    }
    ops.extend(links);
    (ops, changes)
}

/// The outcome of an accepted line whose person is `entry`.
pub(super) fn outcome(p: &Planner, entry: usize, line: usize, changes: &Changes) -> LineOutcome {
    let e = &p.people.entries[entry];
    let first_line = e.wanted.first_line.unwrap_or(line);
    let said = changes.on(line);
    if line == first_line && e.before.is_none() && e.wanted.created_on == Some(line) {
        LineOutcome::Create
    } else if !said.is_empty() {
        LineOutcome::Update(said.to_vec())
    } else if line == first_line {
        LineOutcome::Unchanged
    } else {
        LineOutcome::Duplicate { first_line }
    }
}

fn create_person(e: &Entry) -> Option<RosterOp> {
    let w = &e.wanted;
    let (last_name, first_name) = w.names.clone().or_else(|| w.guardian_names.clone())?;
    Some(RosterOp::CreatePerson {
        role: e.role,
        person: PersonRecord {
            external_id: w.external_id.as_ref().map(|g| g.value.clone()),
            last_name,
            first_name,
            birth_date: w.birth_date.as_ref().map(|g| g.value),
            email: w.email.as_ref().map(|g| g.value.clone()),
        },
        subject: w.subject.as_ref().map(|g| g.value.clone()),
    })
}

/// The whole record as it will be: the file's values, else the current ones
/// (a file without an email column does not erase emails).
fn update_person(e: &Entry, before: &SnapshotPerson) -> Option<RosterOp> {
    let w = &e.wanted;
    let (last_name, first_name) = match &w.names {
        Some(names) => names.clone(),
        None => (
            PersonName::parse(&before.last_name).ok()?,
            PersonName::parse(&before.first_name).ok()?,
        ),
    };
    let external_id = match &w.external_id {
        Some(g) => Some(g.value.clone()),
        None => before
            .external_id
            .as_deref()
            .and_then(|id| ExternalId::parse(id).ok()),
    };
    Some(RosterOp::UpdatePerson {
        id: before.id,
        person: PersonRecord {
            external_id,
            last_name,
            first_name,
            birth_date: w
                .birth_date
                .as_ref()
                .map(|g| g.value)
                .or_else(|| snapshot_date(before)),
            email: w
                .email
                .as_ref()
                .map(|g| g.value.clone())
                .or_else(|| before.email.clone()),
        },
        subject: w
            .subject
            .as_ref()
            .map(|g| g.value.clone())
            .or_else(|| before.subject.clone()),
    })
}

/// A stored empty string is no value: the file fills it in.
fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

fn snapshot_date(p: &SnapshotPerson) -> Option<BirthDate> {
    p.birth_date
        .as_deref()
        .and_then(|d| BirthDate::parse(d).ok())
}

/// What differs in the person's own fields, line by line. For a new person
/// only what later lines add is of interest (the first line says "Create").
fn field_changes(p: &Planner, i: usize, before: Option<&SnapshotPerson>) -> Vec<(usize, String)> {
    let e = &p.people.entries[i];
    let w = &e.wanted;
    let mut said = Vec::new();
    if let (Some((last, first)), Some(line), Some(b)) = (&w.names, w.first_line, before) {
        if last.as_str() != b.last_name {
            said.push((line, format!("nom : {} → {last}", b.last_name)));
        }
        if first.as_str() != b.first_name {
            said.push((line, format!("prénom : {} → {first}", b.first_name)));
        }
    }
    if let Some(g) = &w.external_id {
        if before.and_then(|b| non_blank(&b.external_id)).is_none() {
            said.push((g.line, format!("identifiant : {} (ajouté)", g.value)));
        }
    }
    if let Some(g) = &w.birth_date {
        match before.and_then(snapshot_date) {
            None => said.push((
                g.line,
                format!("date de naissance : {} (ajoutée)", g.value.french()),
            )),
            Some(d) if d != g.value => {
                said.push((
                    g.line,
                    format!("date de naissance : {} → {}", d.french(), g.value.french()),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(g) = &w.email {
        let guardian_only = w.first_line.is_none();
        match before.and_then(|b| non_blank(&b.email)) {
            None if guardian_only => said.push((
                g.line,
                format!(
                    "courriel ajouté pour le responsable {} : {}",
                    p.people.who(i),
                    g.value
                ),
            )),
            None => said.push((g.line, format!("courriel : {} (ajouté)", g.value))),
            Some(old) if !old.eq_ignore_ascii_case(&g.value) => {
                said.push((g.line, format!("courriel : {old} → {}", g.value)));
            }
            Some(_) => {}
        }
    }
    if let Some(g) = &w.subject {
        let label = if e.role == Role::Staff {
            "fonction"
        } else {
            "discipline"
        };
        match before.and_then(|b| non_blank(&b.subject)) {
            None => said.push((g.line, format!("{label} : {} (ajoutée)", g.value))),
            Some(old) if old != g.value => {
                said.push((g.line, format!("{label} : {old} → {}", g.value)))
            }
            Some(_) => {}
        }
    }
    said
}

fn pupil_links(
    p: &Planner,
    i: usize,
    before: Option<&SnapshotPerson>,
    links: &mut Vec<RosterOp>,
    changes: &mut Changes,
) {
    let e = &p.people.entries[i];
    set_class(p, e, before, links, changes);
    if p.scope.groups && e.wanted.first_line.is_some() {
        set_groups(p, e, before, links, changes);
    }
    for g in &e.wanted.guardians {
        let parent = &p.people.entries[g.value];
        let linked = match (before, p.people.before(g.value)) {
            (Some(pupil), Some(parent)) => parent.children.contains(&pupil.id),
            _ => false,
        };
        if linked {
            continue;
        }
        links.push(RosterOp::LinkParent {
            parent: parent.slot,
            child: e.slot,
        });
        let verb = if parent.wanted.created_on == Some(g.line) {
            "créé"
        } else {
            "rattaché"
        };
        changes.add(
            g.line,
            format!("responsable {verb} : {}", p.people.who(g.value)),
        );
    }
}

/// A pupil who moved is moved: one account, its class replaced.
fn set_class(
    p: &Planner,
    e: &Entry,
    before: Option<&SnapshotPerson>,
    links: &mut Vec<RosterOp>,
    changes: &mut Changes,
) {
    let Some(class) = &e.wanted.class else {
        return;
    };
    let current = before.and_then(|b| b.class);
    if matches!((class.value, current), (Place::Existing(id), Some(now)) if id == now) {
        return;
    }
    links.push(RosterOp::SetClass {
        pupil: e.slot,
        class: class_ref(class.value),
    });
    let from = current.map_or_else(
        || "aucune".to_owned(),
        |id| p.classes.name(Place::Existing(id)),
    );
    changes.add(
        class.line,
        format!("classe : {from} → {}", p.classes.name(class.value)),
    );
}

fn set_groups(
    p: &Planner,
    e: &Entry,
    before: Option<&SnapshotPerson>,
    links: &mut Vec<RosterOp>,
    changes: &mut Changes,
) {
    let current: BTreeSet<GroupId> = before.map(|b| b.groups.clone()).unwrap_or_default();
    let wanted = &e.wanted.groups;
    let is_current =
        |g: &Given<Place<GroupId>>| matches!(g.value, Place::Existing(id) if current.contains(&id));
    let kept: BTreeSet<GroupId> = wanted
        .iter()
        .filter_map(|g| match g.value {
            Place::Existing(id) if current.contains(&id) => Some(id),
            _ => None,
        })
        .collect();
    let added: Vec<&Given<Place<GroupId>>> = wanted.iter().filter(|g| !is_current(g)).collect();
    let removed: Vec<GroupId> = current.difference(&kept).copied().collect();
    if added.is_empty() && removed.is_empty() {
        return;
    }
    links.push(RosterOp::SetGroups {
        pupil: e.slot,
        groups: wanted.iter().map(|g| group_ref(g.value)).collect(),
    });
    for g in added {
        changes.add(
            g.line,
            format!("nouveau groupe : {}", p.groups.name(g.value)),
        );
    }
    let first_line = e.wanted.first_line.unwrap_or_default();
    for id in removed {
        changes.add(
            first_line,
            format!("groupe retiré : {}", p.groups.name(Place::Existing(id))),
        );
    }
}

/// Links are only added: a parents' file often lists only some children.
fn parent_links(
    p: &Planner,
    i: usize,
    before: Option<&SnapshotPerson>,
    links: &mut Vec<RosterOp>,
    changes: &mut Changes,
) {
    let e = &p.people.entries[i];
    for child in &e.wanted.children {
        let linked = match (before, child.value) {
            (Some(b), PersonRef::Existing(id)) => b.children.contains(&id),
            _ => false,
        };
        if linked {
            continue;
        }
        links.push(RosterOp::LinkParent {
            parent: e.slot,
            child: child.value,
        });
        let who = p
            .people
            .index_of(child.value)
            .map(|c| p.people.who(c))
            .unwrap_or_default();
        changes.add(child.line, format!("enfant rattaché : {who}"));
    }
}

/// The file's classes replace the teacher's, with the professeur principal
/// flags; without a "Professeur principal" column the current flags stay.
fn teacher_links(
    p: &Planner,
    i: usize,
    before: Option<&SnapshotPerson>,
    links: &mut Vec<RosterOp>,
    changes: &mut Changes,
) {
    let e = &p.people.entries[i];
    let w = &e.wanted;
    let Some(first_line) = w.first_line.filter(|_| p.scope.teachings) else {
        return;
    };
    let mut current: BTreeMap<ClassId, bool> = BTreeMap::new();
    for &(id, head) in before.map(|b| &b.teaches).into_iter().flatten() {
        *current.entry(id).or_default() |= head;
    }
    let head_line =
        |place: Place<ClassId>| w.heads.iter().find(|h| h.value == place).map(|h| h.line);
    let wanted: Vec<(Given<Place<ClassId>>, bool)> = w
        .teachings
        .iter()
        .map(|t| {
            let head = match (p.scope.heads, t.value) {
                (true, place) => head_line(place).is_some(),
                (false, Place::Existing(id)) => current.get(&id).copied().unwrap_or(false),
                (false, Place::New(_)) => false,
            };
            (t.clone(), head)
        })
        .collect();
    let mut said = Vec::new();
    for (t, head) in &wanted {
        let name = p.classes.name(t.value);
        let now = match t.value {
            Place::Existing(id) => current.get(&id).copied(),
            Place::New(_) => None,
        };
        match (now, *head) {
            (None, _) => said.push((t.line, format!("nouvelle classe : {name}"))),
            (Some(false), true) => {}
            (Some(true), false) => said.push((
                first_line,
                format!("n'est plus professeur principal : {name}"),
            )),
            _ => {}
        }
        if *head && now != Some(true) {
            said.push((
                head_line(t.value).unwrap_or(t.line),
                format!("professeur principal : {name}"),
            ));
        }
    }
    for id in current.keys() {
        if !wanted.iter().any(|(t, _)| t.value == Place::Existing(*id)) {
            said.push((
                first_line,
                format!("classe retirée : {}", p.classes.name(Place::Existing(*id))),
            ));
        }
    }
    if !said.is_empty() {
        links.push(RosterOp::SetTeachings {
            teacher: e.slot,
            classes: wanted
                .iter()
                .map(|(t, head)| (class_ref(t.value), *head))
                .collect(),
        });
    }
    for (line, text) in said {
        changes.add(line, text);
    }
    teacher_groups(p, e, first_line, before, links, changes);
}

/// The groups a teacher's file names replace the groups they teach.
fn teacher_groups(
    p: &Planner,
    e: &Entry,
    first_line: usize,
    before: Option<&SnapshotPerson>,
    links: &mut Vec<RosterOp>,
    changes: &mut Changes,
) {
    let current: BTreeSet<GroupId> = before.map(|b| b.teaches_groups.clone()).unwrap_or_default();
    let wanted = &e.wanted.teaching_groups;
    let added: Vec<&Given<Place<GroupId>>> = wanted
        .iter()
        .filter(|g| !matches!(g.value, Place::Existing(id) if current.contains(&id)))
        .collect();
    let removed: Vec<GroupId> = current
        .iter()
        .filter(|id| !wanted.iter().any(|g| g.value == Place::Existing(**id)))
        .copied()
        .collect();
    if added.is_empty() && removed.is_empty() {
        return;
    }
    links.push(RosterOp::SetTeacherGroups {
        teacher: e.slot,
        groups: wanted.iter().map(|g| group_ref(g.value)).collect(),
    });
    for g in added {
        changes.add(
            g.line,
            format!("nouveau groupe enseigné : {}", p.groups.name(g.value)),
        );
    }
    for id in removed {
        changes.add(
            first_line,
            format!(
                "groupe enseigné retiré : {}",
                p.groups.name(Place::Existing(id))
            ),
        );
    }
}

fn class_ref(place: Place<ClassId>) -> ClassRef {
    match place {
        Place::Existing(id) => ClassRef::Existing(id),
        Place::New(n) => ClassRef::New(n),
    }
}

fn group_ref(place: Place<GroupId>) -> GroupRef {
    match place {
        Place::Existing(id) => GroupRef::Existing(id),
        Place::New(n) => GroupRef::New(n),
    }
}
