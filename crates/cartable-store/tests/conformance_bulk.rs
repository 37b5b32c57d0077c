//! Storage conformance for bulk writes (`BulkRepo`, used by `cartable
//! seed`): the same checks on SQLite (always) and on PostgreSQL (when
//! CARTABLE_TEST_PG_URL is set). Each check gets a fresh database.
//!
//! What must hold:
//! - a school written in bulk is, row for row, what a roster import followed
//!   by setting each password writes: same people, classes, groups,
//!   enrolments, parent links, teachings (with the head flag), and accounts
//!   active with the given hash;
//! - it is all or nothing: a login already taken, or a batch that points at
//!   nothing, writes no class and no person;
//! - sessions inserted in bulk read back exactly as `insert_session` writes
//!   them, and open the actor they belong to;
//! - `existing_logins` lists every login, so that new ones can be chosen free.

use std::collections::BTreeMap;

use cartable_domain::names::{BirthDate, ClassName, Login, PersonName};
use cartable_domain::roster::{ClassRef, GroupRef, PersonRecord, PersonRef, RosterOp};
use cartable_domain::{Role, SchoolId, UserId};
use cartable_store::sql::SqlStore;
use cartable_store::*;

mod common;

conformance!(
    "the bulk conformance suite";
    bulk_school_reads_back_like_an_imported_one,
    a_taken_login_or_a_bad_index_writes_nothing,
    bulk_sessions_read_back_like_single_ones,
    existing_logins_lists_every_login,
);

const NOW: i64 = 1_788_220_800;
const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2VsZGVzZWxkZXNlbA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// (role, last, first, birth date, subject).
type Who = (
    Role,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

/// Zoé and Léo Martin (6e A, 6e B; Zoé in Latin), Hugo Petit (6e A),
/// Sophie Martin parent of both Martins, Paul teaches 6e A (head), Marie
/// teaches both classes, and a staff member.
const PEOPLE: [Who; 7] = [
    (Role::Pupil, "Martin", "Zoé", Some("2014-03-09"), None),
    (Role::Pupil, "Martin", "Léo", Some("2013-11-21"), None),
    (Role::Pupil, "Petit", "Hugo", Some("2014-06-01"), None),
    (Role::Parent, "Martin", "Sophie", None, None),
    (Role::Teacher, "Durand", "Paul", None, Some("Mathématiques")),
    (Role::Teacher, "Moreau", "Marie", None, Some("Français")),
    (Role::Staff, "Benali", "Nadia", None, None),
];

fn class(name: &str) -> ClassName {
    ClassName::parse(name).unwrap()
}

fn name(n: &str) -> PersonName {
    PersonName::parse(n).unwrap()
}

/// The school through the roster import, then each password set.
async fn imported(store: &SqlStore) -> SchoolId {
    let school = store
        .create_school("Collège importé", "0750001A", NOW)
        .await
        .unwrap();
    let mut ops = vec![
        RosterOp::CreateClass {
            name: class("6e A"),
        },
        RosterOp::CreateClass {
            name: class("6e B"),
        },
        RosterOp::CreateGroup {
            name: class("Latin"),
        },
    ];
    for (role, last, first, birth, subject) in PEOPLE {
        ops.push(RosterOp::CreatePerson {
            role,
            person: PersonRecord {
                external_id: None,
                last_name: name(last),
                first_name: name(first),
                birth_date: birth.map(|b| BirthDate::parse(b).unwrap()),
                email: None,
            },
            subject: subject.map(str::to_string),
        });
    }
    let p = PersonRef::New;
    let c = ClassRef::New;
    ops.extend([
        RosterOp::SetClass {
            pupil: p(0),
            class: c(0),
        },
        RosterOp::SetClass {
            pupil: p(1),
            class: c(1),
        },
        RosterOp::SetClass {
            pupil: p(2),
            class: c(0),
        },
        RosterOp::SetGroups {
            pupil: p(0),
            groups: vec![GroupRef::New(0)],
        },
        RosterOp::LinkParent {
            parent: p(3),
            child: p(0),
        },
        RosterOp::LinkParent {
            parent: p(3),
            child: p(1),
        },
        RosterOp::SetTeachings {
            teacher: p(4),
            classes: vec![(c(0), true)],
        },
        RosterOp::SetTeachings {
            teacher: p(5),
            classes: vec![(c(0), false), (c(1), false)],
        },
    ]);
    let applied = store.apply_roster(school, &ops, NOW).await.unwrap();
    for (id, _) in applied.created {
        store.set_password(id, Some(HASH), NOW).await.unwrap();
    }
    school
}

fn bulk_batch(login_suffix: u32) -> BulkSchool {
    let people = PEOPLE
        .iter()
        .enumerate()
        .map(|(i, &(role, last, first, birth, subject))| BulkPerson {
            role,
            login: Login::suggest(&name(first), &name(last), login_suffix),
            last_name: name(last),
            first_name: name(first),
            birth_date: birth.map(str::to_string),
            subject: subject.map(str::to_string),
            class: [Some(0), Some(1), Some(0)].get(i).copied().flatten(),
            groups: if i == 0 { vec![0] } else { Vec::new() },
            children: if i == 3 { vec![0, 1] } else { Vec::new() },
            teaches: match i {
                4 => vec![(0, true)],
                5 => vec![(0, false), (1, false)],
                _ => Vec::new(),
            },
        })
        .collect();
    BulkSchool {
        classes: vec![class("6e A"), class("6e B")],
        groups: vec![class("Latin")],
        people,
        password_hash: Some(HASH.to_string()),
    }
}

/// A school's people and relations by name, without ids or logins, with
/// what a login reads (hash, lock, disabled).
async fn describe(store: &SqlStore, school: SchoolId) -> Vec<String> {
    let snap = store.roster_snapshot(school).await.unwrap();
    let class_name: BTreeMap<_, _> = snap.classes.iter().cloned().collect();
    let group_name: BTreeMap<_, _> = snap.groups.iter().cloned().collect();
    let person_name: BTreeMap<UserId, String> = snap
        .people
        .iter()
        .map(|p| (p.id, format!("{} {}", p.first_name, p.last_name)))
        .collect();
    let mut out = Vec::new();
    for p in &snap.people {
        let creds = store.credentials(&p.login).await.unwrap().unwrap();
        let teaches: Vec<String> = p
            .teaches
            .iter()
            .map(|(c, head)| format!("{}{}", class_name[c], if *head { "*" } else { "" }))
            .collect();
        out.push(format!(
            "{:?} {} {} born={:?} subject={:?} email={:?} ext={:?} class={:?} groups={:?} \
             children={:?} teaches={:?} hash={:?} disabled={} failed={} locked={}",
            p.role,
            p.first_name,
            p.last_name,
            p.birth_date,
            p.subject,
            p.email,
            p.external_id,
            p.class.map(|c| class_name[&c].clone()),
            p.groups.iter().map(|g| &group_name[g]).collect::<Vec<_>>(),
            p.children
                .iter()
                .map(|c| &person_name[c])
                .collect::<Vec<_>>(),
            teaches,
            creds.password_hash,
            creds.disabled,
            creds.failed_logins,
            creds.locked_until,
        ));
    }
    out.sort();
    let mut classes: Vec<String> = store
        .classes(school)
        .await
        .unwrap()
        .iter()
        .map(|c| format!("class {} pupils={}", c.name, c.pupils))
        .collect();
    classes.sort();
    out.extend(classes);
    out
}

async fn bulk_school_reads_back_like_an_imported_one(store: &SqlStore) {
    let a = imported(store).await;
    let b = store
        .create_school("Collège en masse", "0750002B", NOW)
        .await
        .unwrap();
    // The imported school took the plain logins.
    let created = store
        .bulk_create_people(b, &bulk_batch(2), NOW)
        .await
        .unwrap();
    assert_eq!(created.classes.len(), 2);
    assert_eq!(created.groups.len(), 1);
    assert_eq!(created.people.len(), PEOPLE.len());
    assert_eq!(describe(store, b).await, describe(store, a).await);

    // The ids returned are the rows' ids, in the batch's order.
    let zoe = store
        .user(Some(b), created.people[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (zoe.first_name.as_str(), zoe.login.as_str()),
        ("Zoé", "zoe.martin2")
    );
    let actor = store.actor(created.people[3]).await.unwrap().unwrap();
    assert_eq!(
        actor.children,
        [created.people[0], created.people[1]].into_iter().collect()
    );
    assert_eq!(actor.classes, created.classes.iter().copied().collect());
    let teachers = store.class_teachers(b, created.classes[0]).await.unwrap();
    let head: Vec<(UserId, bool)> = teachers.iter().map(|t| (t.teacher.id, t.head)).collect();
    assert!(head.contains(&(created.people[4], true)));
    assert!(head.contains(&(created.people[5], false)));
    let pupils = store.class_pupils(b, created.classes[0]).await.unwrap();
    assert_eq!(pupils.len(), 2);
    assert!(pupils.iter().all(|p| p.activated));
}

async fn a_taken_login_or_a_bad_index_writes_nothing(store: &SqlStore) {
    imported(store).await;
    let b = store
        .create_school("Collège en masse", "0750002B", NOW)
        .await
        .unwrap();
    // Suffix 1: "zoe.martin" and the others are taken by the import.
    let refused = store.bulk_create_people(b, &bulk_batch(1), NOW).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let mut bad = bulk_batch(2);
    bad.people[3].children.push(99);
    assert!(store.bulk_create_people(b, &bad, NOW).await.is_err());
    let mut wrong_role = bulk_batch(2);
    wrong_role.people[6].class = Some(0);
    assert!(store.bulk_create_people(b, &wrong_role, NOW).await.is_err());
    let snap = store.roster_snapshot(b).await.unwrap();
    assert!(snap.classes.is_empty() && snap.groups.is_empty() && snap.people.is_empty());
    assert!(store.credentials("zoe.martin2").await.unwrap().is_none());
    // And the same batch with free logins then goes in whole.
    store
        .bulk_create_people(b, &bulk_batch(2), NOW)
        .await
        .unwrap();
    assert_eq!(
        store.roster_snapshot(b).await.unwrap().people.len(),
        PEOPLE.len()
    );
}

async fn bulk_sessions_read_back_like_single_ones(store: &SqlStore) {
    let school = store
        .create_school("Collège en masse", "0750002B", NOW)
        .await
        .unwrap();
    let created = store
        .bulk_create_people(school, &bulk_batch(1), NOW)
        .await
        .unwrap();
    let row = |i: usize, user: UserId| SessionRow {
        token_hash: format!("{i:064x}"),
        user_id: user,
        school_id: Some(school),
        persistent: i.is_multiple_of(2),
        created_at: NOW + i as i64,
        last_seen_at: NOW + i as i64,
        expires_at: NOW + 30 * 86_400,
        user_agent: (i == 1).then(|| "Firefox".to_string()),
        ip: (i == 2).then(|| "192.0.2.7".to_string()),
    };
    // More rows than one statement takes, to cross a chunk boundary.
    let rows: Vec<SessionRow> = (0..250).map(|i| row(i, created.people[i % 3])).collect();
    store.insert_sessions(&rows).await.unwrap();
    store.insert_sessions(&[]).await.unwrap();
    let single = row(1000, created.people[0]);
    store.insert_session(&single).await.unwrap();
    for r in rows.iter().chain([&single]) {
        assert_eq!(
            store.session(&r.token_hash).await.unwrap().as_ref(),
            Some(r)
        );
    }
    let actor = store.actor(rows[1].user_id).await.unwrap().unwrap();
    assert_eq!(actor.role, Role::Pupil);
    // A token already stored makes the whole batch fail, adding none.
    let again = vec![row(5000, created.people[0]), row(3, created.people[0])];
    assert!(matches!(
        store.insert_sessions(&again).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.session(&again[0].token_hash).await.unwrap().is_none());
}

async fn existing_logins_lists_every_login(store: &SqlStore) {
    assert!(store.existing_logins().await.unwrap().is_empty());
    imported(store).await;
    let mut logins = store.existing_logins().await.unwrap();
    logins.sort();
    assert_eq!(
        logins,
        [
            "hugo.petit",
            "leo.martin",
            "marie.moreau",
            "nadia.benali",
            "paul.durand",
            "sophie.martin",
            "zoe.martin"
        ]
    );
}
