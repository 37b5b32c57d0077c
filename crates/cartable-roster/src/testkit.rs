//! Test helpers: an in-memory "store" applying a plan's operations to a
//! snapshot, as the real store does in its transaction, checking the order
//! contract on the way (every `New(n)` refers to something already created).

use cartable_domain::names::Login;
use cartable_domain::roster::{
    ClassRef, GroupRef, PersonRef, RosterOp, RosterSnapshot, SnapshotPerson,
};
use cartable_domain::{ClassId, GroupId, Role, UserId};

/// Applies `ops` to a copy of `snapshot`, allocating ids after the largest one.
pub(crate) fn apply(snapshot: &RosterSnapshot, ops: &[RosterOp]) -> RosterSnapshot {
    let mut s = snapshot.clone();
    let mut next_id = max_id(&s) + 1;
    let mut next = || {
        next_id += 1;
        next_id - 1
    };
    let mut classes: Vec<ClassId> = Vec::new();
    let mut groups: Vec<GroupId> = Vec::new();
    let mut people: Vec<UserId> = Vec::new();
    let mut phase = 0;
    for op in ops {
        let op_phase = match op {
            RosterOp::CreateClass { .. } | RosterOp::CreateGroup { .. } => 0,
            RosterOp::CreatePerson { .. } | RosterOp::UpdatePerson { .. } => 1,
            _ => 2,
        };
        assert!(op_phase >= phase, "operation out of order: {op:?}");
        phase = op_phase;
        match op {
            RosterOp::CreateClass { name } => {
                let id = ClassId(next());
                s.classes.push((id, name.to_string()));
                classes.push(id);
            }
            RosterOp::CreateGroup { name } => {
                let id = GroupId(next());
                s.groups.push((id, name.to_string()));
                groups.push(id);
            }
            RosterOp::CreatePerson {
                role,
                person,
                subject,
            } => {
                let id = UserId(next());
                let login = Login::suggest(&person.first_name, &person.last_name, 1).to_string();
                s.people.push(SnapshotPerson {
                    id,
                    role: *role,
                    login,
                    external_id: person.external_id.as_ref().map(|e| e.to_string()),
                    last_name: person.last_name.to_string(),
                    first_name: person.first_name.to_string(),
                    birth_date: person.birth_date.map(|d| d.iso()),
                    email: person.email.clone(),
                    subject: subject.clone(),
                    class: None,
                    groups: Default::default(),
                    children: Default::default(),
                    teaches: Default::default(),
                    teaches_groups: Default::default(),
                });
                people.push(id);
            }
            RosterOp::UpdatePerson {
                id,
                person,
                subject,
            } => {
                let p = person_mut(&mut s, *id);
                p.external_id = person.external_id.as_ref().map(|e| e.to_string());
                p.last_name = person.last_name.to_string();
                p.first_name = person.first_name.to_string();
                p.birth_date = person.birth_date.map(|d| d.iso());
                p.email = person.email.clone();
                p.subject = subject.clone();
            }
            RosterOp::SetClass { pupil, class } => {
                let (pupil, class) = (user(&people, *pupil), class_id(&classes, *class));
                let p = person_mut(&mut s, pupil);
                assert_eq!(p.role, Role::Pupil);
                p.class = Some(class);
            }
            RosterOp::SetGroups { pupil, groups: gs } => {
                let set = gs.iter().map(|g| group_id(&groups, *g)).collect();
                person_mut(&mut s, user(&people, *pupil)).groups = set;
            }
            RosterOp::LinkParent { parent, child } => {
                let child = user(&people, *child);
                let p = person_mut(&mut s, user(&people, *parent));
                assert_eq!(p.role, Role::Parent);
                p.children.insert(child);
            }
            RosterOp::SetTeachings {
                teacher,
                classes: cs,
            } => {
                let set = cs
                    .iter()
                    .map(|(c, head)| (class_id(&classes, *c), *head))
                    .collect();
                let p = person_mut(&mut s, user(&people, *teacher));
                assert_eq!(p.role, Role::Teacher);
                p.teaches = set;
            }
            RosterOp::SetTeacherGroups {
                teacher,
                groups: gs,
            } => {
                let set = gs.iter().map(|g| group_id(&groups, *g)).collect();
                let p = person_mut(&mut s, user(&people, *teacher));
                assert_eq!(p.role, Role::Teacher);
                p.teaches_groups = set;
            }
        }
    }
    s
}

fn max_id(s: &RosterSnapshot) -> i64 {
    let people = s.people.iter().map(|p| p.id.0);
    let classes = s.classes.iter().map(|c| c.0 .0);
    let groups = s.groups.iter().map(|g| g.0 .0);
    people.chain(classes).chain(groups).max().unwrap_or(0)
}

fn person_mut(s: &mut RosterSnapshot, id: UserId) -> &mut SnapshotPerson {
    s.people
        .iter_mut()
        .find(|p| p.id == id)
        .expect("unknown person")
}

fn user(created: &[UserId], r: PersonRef) -> UserId {
    match r {
        PersonRef::Existing(id) => id,
        PersonRef::New(n) => *created.get(n).expect("New(n) before its CreatePerson"),
    }
}

fn class_id(created: &[ClassId], r: ClassRef) -> ClassId {
    match r {
        ClassRef::Existing(id) => id,
        ClassRef::New(n) => *created.get(n).expect("New(n) before its CreateClass"),
    }
}

fn group_id(created: &[GroupId], r: GroupRef) -> GroupId {
    match r {
        GroupRef::Existing(id) => id,
        GroupRef::New(n) => *created.get(n).expect("New(n) before its CreateGroup"),
    }
}

/// A person as the store holds one, without links.
pub(crate) fn person(id: i64, role: Role, last: &str, first: &str) -> SnapshotPerson {
    SnapshotPerson {
        id: UserId(id),
        role,
        login: format!("{}.{}", first.to_lowercase(), last.to_lowercase()),
        external_id: None,
        last_name: last.into(),
        first_name: first.into(),
        birth_date: None,
        email: None,
        subject: None,
        class: None,
        groups: Default::default(),
        children: Default::default(),
        teaches: Default::default(),
        teaches_groups: Default::default(),
    }
}
