//! The storage conformance suite: the same checks on SQLite (always) and on
//! PostgreSQL (when CARTABLE_TEST_PG_URL is set; loudly skipped otherwise,
//! failed under CI). Each run gets a fresh database.

use cartable_domain::names::{BirthDate, ClassName, PersonName};
use cartable_domain::roster::{ClassRef, PersonRecord, PersonRef, RosterOp};
use cartable_domain::{ClassId, Role, SchoolId, UserId};
use cartable_store::sql::SqlStore;
use cartable_store::*;

mod common;

conformance!(
    "the storage conformance suite";
    migrations_are_idempotent_and_schools_are_unique,
    users_and_credentials,
    sessions_live_and_die,
    activation_codes_replace_and_vanish_on_password,
    audit_log_is_scoped,
    roster_apply_is_atomic_and_scoped,
    directory_queries,
);

fn person(last: &str, first: &str) -> PersonRecord {
    PersonRecord {
        external_id: None,
        last_name: PersonName::parse(last).unwrap(),
        first_name: PersonName::parse(first).unwrap(),
        birth_date: Some(BirthDate::parse("03/09/2012").unwrap()),
        email: None,
    }
}

async fn two_schools(store: &SqlStore) -> (SchoolId, SchoolId) {
    let a = store
        .create_school("Collège Jean Moulin", "0750001A", 1)
        .await
        .unwrap();
    let b = store
        .create_school("Lycée Victor Hugo", "0750002B", 1)
        .await
        .unwrap();
    (a, b)
}

async fn new_user(store: &SqlStore, school: SchoolId, role: Role, login: &str) -> UserId {
    store
        .create_user(
            &NewUser {
                school_id: Some(school),
                role,
                login: login.into(),
                last_name: "Martin".into(),
                first_name: "Zoé".into(),
                password_hash: Some("$argon2id$fake".into()),
            },
            10,
        )
        .await
        .unwrap()
}

async fn migrations_are_idempotent_and_schools_are_unique(store: &SqlStore) {
    let (a, _) = two_schools(store).await;
    assert!(matches!(
        store.create_school("Doublon", "0750001A", 1).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.school_by_uai("0750001A").await.unwrap().unwrap().id,
        a
    );
    assert_eq!(
        store.school(a).await.unwrap().unwrap().name,
        "Collège Jean Moulin"
    );
    assert!(store.school(SchoolId(999_999)).await.unwrap().is_none());
    let counts = store.schools_with_counts().await.unwrap();
    assert_eq!(counts.len(), 2);
    assert_eq!(counts[0].people, 0);
}

async fn users_and_credentials(store: &SqlStore) {
    let (a, b) = two_schools(store).await;
    let zoe = new_user(store, a, Role::Pupil, "zoe.martin").await;
    let clash = store
        .create_user(
            &NewUser {
                school_id: Some(b),
                role: Role::Teacher,
                login: "zoe.martin".into(),
                last_name: "X".into(),
                first_name: "Y".into(),
                password_hash: None,
            },
            10,
        )
        .await;
    assert!(
        matches!(clash, Err(StoreError::Conflict(_))),
        "logins are unique across schools"
    );

    let c = store.credentials("zoe.martin").await.unwrap().unwrap();
    assert_eq!(
        (c.user_id, c.school_id, c.role),
        (zoe, Some(a), Role::Pupil)
    );
    assert!(!c.disabled);
    store.record_login_failure(zoe, 3, 500).await.unwrap();
    let c = store.credentials("zoe.martin").await.unwrap().unwrap();
    assert_eq!((c.failed_logins, c.locked_until), (3, 500));

    // A login in one write: failures reset, the session, the audit event.
    let session = SessionRow {
        token_hash: "login-in-one-write".into(),
        user_id: zoe,
        school_id: Some(a),
        persistent: true,
        created_at: 30,
        last_seen_at: 30,
        expires_at: 3_000,
        user_agent: Some("test".into()),
        ip: Some("127.0.0.1".into()),
    };
    let event = AuditEvent {
        school_id: Some(a),
        actor_id: Some(zoe),
        action: "login.ok".into(),
        target: Some("zoe.martin".into()),
        ip: Some("127.0.0.1".into()),
        detail: None,
        at: 30,
    };
    store.record_login(&session, &event, true).await.unwrap();
    let c = store.credentials("zoe.martin").await.unwrap().unwrap();
    assert_eq!((c.failed_logins, c.locked_until), (0, 0));
    assert_eq!(
        store.session("login-in-one-write").await.unwrap(),
        Some(session.clone())
    );
    assert!(store
        .audit_log(a, 10)
        .await
        .unwrap()
        .iter()
        .any(|e| e.action == "login.ok" && e.actor_id == Some(zoe) && e.at == 30));
    store.delete_session("login-in-one-write").await.unwrap();

    // Scoping: the user exists in school a only.
    assert!(store.user(Some(a), zoe).await.unwrap().is_some());
    assert!(store.user(Some(b), zoe).await.unwrap().is_none());
    assert!(store.person_facts(b, zoe).await.unwrap().is_none());
    assert!(
        !store.set_disabled(b, zoe, true, 20).await.unwrap(),
        "cannot disable from another school"
    );
    assert!(store.set_disabled(a, zoe, true, 20).await.unwrap());
    assert!(
        store.actor(zoe).await.unwrap().is_none(),
        "a disabled user is no actor"
    );
    assert!(
        store
            .credentials("zoe.martin")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );

    store.set_password(zoe, None, 30).await.unwrap();
    assert!(!store.user(Some(a), zoe).await.unwrap().unwrap().activated);
}

async fn sessions_live_and_die(store: &SqlStore) {
    let (a, _) = two_schools(store).await;
    let zoe = new_user(store, a, Role::Pupil, "zoe.martin").await;
    for (hash, persistent) in [("h1", true), ("h2", false), ("h3", true)] {
        store
            .insert_session(&SessionRow {
                token_hash: hash.into(),
                user_id: zoe,
                school_id: Some(a),
                persistent,
                created_at: 100,
                last_seen_at: 100,
                expires_at: 1000,
                user_agent: Some("Firefox".into()),
                ip: Some("127.0.0.1".into()),
            })
            .await
            .unwrap();
    }
    let s = store.session("h2").await.unwrap().unwrap();
    assert!(!s.persistent);
    assert_eq!(s.user_id, zoe);
    let touch = |hash: &str, at: i64, expires: i64| SessionTouch {
        token_hash: hash.into(),
        last_seen_at: at,
        expires_at: expires,
    };
    store
        .touch_sessions(&[touch("h2", 200, 2000), touch("h1", 300, 3000)])
        .await
        .unwrap();
    let s = store.session("h2").await.unwrap().unwrap();
    assert_eq!((s.last_seen_at, s.expires_at), (200, 2000));
    let s = store.session("h1").await.unwrap().unwrap();
    assert_eq!((s.last_seen_at, s.expires_at), (300, 3000));
    // An older touch, written late (another node, another flush), does not
    // shorten the session; a touch of a session that is gone does not bring
    // it back; nothing to touch is nothing to do.
    store
        .touch_sessions(&[touch("h2", 150, 1500), touch("gone", 400, 4000)])
        .await
        .unwrap();
    let s = store.session("h2").await.unwrap().unwrap();
    assert_eq!((s.last_seen_at, s.expires_at), (200, 2000));
    assert!(store.session("gone").await.unwrap().is_none());
    store.touch_sessions(&[]).await.unwrap();
    // More touches than one statement takes, in one call.
    let many: Vec<SessionTouch> = (0..150)
        .map(|i| touch(if i == 149 { "h3" } else { "absent" }, 500 + i, 5000 + i))
        .collect();
    store.touch_sessions(&many).await.unwrap();
    let s = store.session("h3").await.unwrap().unwrap();
    assert_eq!((s.last_seen_at, s.expires_at), (649, 5149));
    assert_eq!(
        store.delete_user_sessions(zoe, Some("h1")).await.unwrap(),
        2
    );
    assert!(store.session("h1").await.unwrap().is_some());
    assert!(store.session("h3").await.unwrap().is_none());
    store.delete_session("h1").await.unwrap();
    assert!(store.session("h1").await.unwrap().is_none());
}

async fn activation_codes_replace_and_vanish_on_password(store: &SqlStore) {
    let (a, _) = two_schools(store).await;
    let zoe = new_user(store, a, Role::Pupil, "zoe.martin").await;
    let code = |hash: &str| ActivationCodeRow {
        user_id: zoe,
        school_id: Some(a),
        code_hash: hash.into(),
        created_at: 1,
        expires_at: 99,
        issued_by: None,
    };
    store.put_activation_code(&code("first")).await.unwrap();
    store.put_activation_code(&code("second")).await.unwrap();
    assert_eq!(
        store.activation_code(zoe).await.unwrap().unwrap().code_hash,
        "second"
    );
    store
        .set_password(zoe, Some("$argon2id$new"), 5)
        .await
        .unwrap();
    assert!(store.activation_code(zoe).await.unwrap().is_none());
    let c = store.credentials("zoe.martin").await.unwrap().unwrap();
    assert_eq!(c.password_hash.as_deref(), Some("$argon2id$new"));
}

async fn audit_log_is_scoped(store: &SqlStore) {
    let (a, b) = two_schools(store).await;
    for (school, action, at) in [
        (a, "login.ok", 1),
        (b, "login.failed", 2),
        (a, "account.disabled", 3),
    ] {
        store
            .audit(&AuditEvent {
                school_id: Some(school),
                actor_id: None,
                action: action.into(),
                target: None,
                ip: Some("127.0.0.1".into()),
                detail: None,
                at,
            })
            .await
            .unwrap();
    }
    let log = store.audit_log(a, 10).await.unwrap();
    let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["account.disabled", "login.ok"]);
}

async fn roster_apply_is_atomic_and_scoped(store: &SqlStore) {
    let (a, b) = two_schools(store).await;
    let ops = vec![
        RosterOp::CreateClass {
            name: ClassName::parse("6e A").unwrap(),
        },
        RosterOp::CreatePerson {
            role: Role::Pupil,
            person: person("Martin", "Zoé"),
            subject: None,
        },
        RosterOp::CreatePerson {
            role: Role::Pupil,
            person: person("Martin", "Zoé"),
            subject: None,
        },
        RosterOp::CreatePerson {
            role: Role::Parent,
            person: person("Martin", "Sophie"),
            subject: None,
        },
        RosterOp::SetClass {
            pupil: PersonRef::New(0),
            class: ClassRef::New(0),
        },
        RosterOp::SetClass {
            pupil: PersonRef::New(1),
            class: ClassRef::New(0),
        },
        RosterOp::LinkParent {
            parent: PersonRef::New(2),
            child: PersonRef::New(0),
        },
        RosterOp::LinkParent {
            parent: PersonRef::New(2),
            child: PersonRef::New(0),
        },
    ];
    let applied = store.apply_roster(a, &ops, 50).await.unwrap();
    let logins: Vec<_> = applied.created.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(logins, ["zoe.martin", "zoe.martin2", "sophie.martin"]);
    assert_eq!(applied.classes_created, 1);

    let snap = store.roster_snapshot(a).await.unwrap();
    assert_eq!(snap.classes.len(), 1);
    assert_eq!(snap.people.len(), 3);
    let parent = snap.people.iter().find(|p| p.role == Role::Parent).unwrap();
    assert_eq!(parent.children.len(), 1);
    assert!(store.roster_snapshot(b).await.unwrap().people.is_empty());

    // A failing op rolls the whole plan back.
    let zoe = applied.created[0].0;
    let before = store.roster_snapshot(a).await.unwrap();
    let bad = vec![
        RosterOp::CreateClass {
            name: ClassName::parse("5e B").unwrap(),
        },
        RosterOp::SetClass {
            pupil: PersonRef::Existing(zoe),
            class: ClassRef::New(0),
        },
        RosterOp::SetClass {
            pupil: PersonRef::Existing(zoe),
            class: ClassRef::Existing(ClassId(987_654)),
        },
    ];
    assert!(store.apply_roster(a, &bad, 60).await.is_err());
    assert_eq!(
        store.roster_snapshot(a).await.unwrap(),
        before,
        "nothing partial"
    );

    // A plan for school b cannot touch school a's people.
    let cross = vec![RosterOp::UpdatePerson {
        id: zoe,
        person: person("Pirate", "X"),
        subject: None,
    }];
    assert!(matches!(
        store.apply_roster(b, &cross, 70).await,
        Err(StoreError::NotFound(_))
    ));
    let cross = vec![
        RosterOp::CreateClass {
            name: ClassName::parse("6e A").unwrap(),
        },
        RosterOp::SetClass {
            pupil: PersonRef::Existing(zoe),
            class: ClassRef::New(0),
        },
    ];
    assert!(store.apply_roster(b, &cross, 70).await.is_err());
    assert_eq!(store.roster_snapshot(a).await.unwrap(), before);

    // Drafts are scoped too.
    let id = store
        .save_import_draft(&ImportDraft {
            id: 0,
            school_id: a,
            created_by: zoe,
            created_at: 100,
            kind: Some("eleves".into()),
            file_name: "eleves.csv".into(),
            content: b"Nom;Pr\xe9nom".to_vec(),
        })
        .await
        .unwrap();
    assert!(store.import_draft(b, id).await.unwrap().is_none());
    let d = store.import_draft(a, id).await.unwrap().unwrap();
    assert_eq!(d.content, b"Nom;Pr\xe9nom");
    store.delete_import_draft(a, id).await.unwrap();
    assert!(store.import_draft(a, id).await.unwrap().is_none());
}

async fn directory_queries(store: &SqlStore) {
    let (a, _) = two_schools(store).await;
    let ops = vec![
        RosterOp::CreateClass {
            name: ClassName::parse("6e A").unwrap(),
        },
        RosterOp::CreateClass {
            name: ClassName::parse("6e B").unwrap(),
        },
        RosterOp::CreatePerson {
            role: Role::Pupil,
            person: person("Martin", "Zoé"),
            subject: None,
        },
        RosterOp::CreatePerson {
            role: Role::Parent,
            person: person("Martin", "Sophie"),
            subject: None,
        },
        RosterOp::CreatePerson {
            role: Role::Teacher,
            person: person("Durand", "Paul"),
            subject: Some("Mathématiques".into()),
        },
        RosterOp::SetClass {
            pupil: PersonRef::New(0),
            class: ClassRef::New(0),
        },
        RosterOp::LinkParent {
            parent: PersonRef::New(1),
            child: PersonRef::New(0),
        },
        RosterOp::SetTeachings {
            teacher: PersonRef::New(2),
            classes: vec![(ClassRef::New(0), true), (ClassRef::New(1), false)],
        },
    ];
    let applied = store.apply_roster(a, &ops, 50).await.unwrap();
    let (zoe, sophie, paul) = (
        applied.created[0].0,
        applied.created[1].0,
        applied.created[2].0,
    );
    let classes = store.classes(a).await.unwrap();
    assert_eq!(
        classes
            .iter()
            .map(|c| (c.name.as_str(), c.pupils))
            .collect::<Vec<_>>(),
        [("6e A", 1), ("6e B", 0)]
    );
    let six_a = classes[0].id;
    assert_eq!(store.class_pupils(a, six_a).await.unwrap()[0].id, zoe);
    let teachers = store.class_teachers(a, six_a).await.unwrap();
    assert_eq!(teachers.len(), 1);
    assert!(teachers[0].head);
    assert_eq!(teachers[0].subject.as_deref(), Some("Mathématiques"));
    assert_eq!(store.classes_of(a, paul).await.unwrap().len(), 2);
    assert_eq!(store.classes_of(a, sophie).await.unwrap()[0].id, six_a);
    let children = store.children_of(a, sophie).await.unwrap();
    assert_eq!(children[0].child.id, zoe);
    assert_eq!(children[0].class.as_ref().unwrap().name, "6e A");
    assert_eq!(store.parents_of(a, zoe).await.unwrap()[0].id, sophie);

    let pupils = store.people(a, Some(Role::Pupil)).await.unwrap();
    assert_eq!(pupils.len(), 1);
    assert_eq!(pupils[0].detail.as_deref(), Some("6e A"));
    assert_eq!(store.people(a, None).await.unwrap().len(), 3);

    let actor = store.actor(sophie).await.unwrap().unwrap();
    assert_eq!(actor.role, Role::Parent);
    assert!(actor.children.contains(&zoe));
    assert!(actor.classes.contains(&six_a));
    let facts = store.person_facts(a, paul).await.unwrap().unwrap();
    assert_eq!(facts.classes.len(), 2);
}
