//! Groups in the store, on SQLite and PostgreSQL: who teaches a group (a
//! roster operation, in the snapshot, in the actor), lessons and assignments
//! for a group, the pupils they reach, and the files of a lesson edited
//! after it was written.
//!
//! The world: school A has 6e A (Léa, Noé) and 6e B (Hugo), and the Latin
//! group with Léa (6e A) and Hugo (6e B) — not Noé. Camille teaches Latin
//! only; Paul teaches 6e A. Sophie is Léa's parent. School B has its own
//! group (Grec) and teacher.

use cartable_domain::names::{ClassName, PersonName};
use cartable_domain::roster::{ClassRef, GroupRef, PersonRecord, PersonRef, RosterOp};
use cartable_domain::{ClassId, GroupId, Role, SchoolId, Target, UserId};
use cartable_store::sql::SqlStore;
use cartable_store::*;

mod common;

conformance!(
    "the groups conformance suite";
    teacher_groups_are_set_replaced_and_scoped_by_the_roster,
    the_actor_knows_its_groups,
    lessons_for_a_group_reach_its_members_only,
    assignments_for_a_group_take_hand_ins_from_its_members_only,
    workload_cohorts_follow_the_pupils,
    a_group_of_another_school_is_not_found,
    lesson_files_are_added_and_removed_by_the_author_only,
);

const NOW: i64 = 1_788_220_800;

fn person(last: &str, first: &str) -> PersonRecord {
    PersonRecord {
        external_id: None,
        last_name: PersonName::parse(last).unwrap(),
        first_name: PersonName::parse(first).unwrap(),
        birth_date: None,
        email: None,
    }
}

fn create(role: Role, last: &str, first: &str) -> RosterOp {
    RosterOp::CreatePerson {
        role,
        person: person(last, first),
        subject: None,
    }
}

fn name(n: &str) -> ClassName {
    ClassName::parse(n).unwrap()
}

#[derive(Debug, Clone, Copy)]
struct World {
    a: SchoolId,
    b: SchoolId,
    class_a: ClassId,
    class_b: ClassId,
    latin: GroupId,
    grec: GroupId,
    camille: UserId,
    paul: UserId,
    lea: UserId,
    noe: UserId,
    hugo: UserId,
    sophie: UserId,
    jules: UserId,
}

async fn world(store: &SqlStore) -> World {
    let a = store
        .create_school("Collège A", "0750001A", 1)
        .await
        .unwrap();
    let b = store
        .create_school("Collège B", "0750002B", 1)
        .await
        .unwrap();
    let ops_a = vec![
        RosterOp::CreateClass { name: name("6e A") },
        RosterOp::CreateClass { name: name("6e B") },
        RosterOp::CreateGroup {
            name: name("Latin"),
        },
        create(Role::Teacher, "Tango", "Camille"), // 0
        create(Role::Teacher, "Uniform", "Paul"),  // 1
        create(Role::Pupil, "Alpha", "Léa"),       // 2
        create(Role::Pupil, "Alpha", "Noé"),       // 3
        create(Role::Pupil, "Bravo", "Hugo"),      // 4
        create(Role::Parent, "Alpha", "Sophie"),   // 5
        RosterOp::SetClass {
            pupil: PersonRef::New(2),
            class: ClassRef::New(0),
        },
        RosterOp::SetClass {
            pupil: PersonRef::New(3),
            class: ClassRef::New(0),
        },
        RosterOp::SetClass {
            pupil: PersonRef::New(4),
            class: ClassRef::New(1),
        },
        RosterOp::SetGroups {
            pupil: PersonRef::New(2),
            groups: vec![GroupRef::New(0)],
        },
        RosterOp::SetGroups {
            pupil: PersonRef::New(4),
            groups: vec![GroupRef::New(0)],
        },
        RosterOp::LinkParent {
            parent: PersonRef::New(5),
            child: PersonRef::New(2),
        },
        RosterOp::SetTeachings {
            teacher: PersonRef::New(1),
            classes: vec![(ClassRef::New(0), false)],
        },
        RosterOp::SetTeacherGroups {
            teacher: PersonRef::New(0),
            groups: vec![GroupRef::New(0)],
        },
    ];
    let ops_b = vec![
        RosterOp::CreateGroup { name: name("Grec") },
        create(Role::Teacher, "Yankee", "Jules"),
        RosterOp::SetTeacherGroups {
            teacher: PersonRef::New(0),
            groups: vec![GroupRef::New(0)],
        },
    ];
    let applied_a = store.apply_roster(a, &ops_a, 5).await.unwrap();
    let applied_b = store.apply_roster(b, &ops_b, 5).await.unwrap();
    let ida = |i: usize| applied_a.created[i].0;
    let classes = store.classes(a).await.unwrap();
    let class = |n: &str| classes.iter().find(|c| c.name == n).unwrap().id;
    World {
        a,
        b,
        class_a: class("6e A"),
        class_b: class("6e B"),
        latin: store.groups(a).await.unwrap()[0].id,
        grec: store.groups(b).await.unwrap()[0].id,
        camille: ida(0),
        paul: ida(1),
        lea: ida(2),
        noe: ida(3),
        hugo: ida(4),
        sophie: ida(5),
        jules: applied_b.created[0].0,
    }
}

fn homework(subject: &str, due: &str) -> LessonFields {
    LessonFields {
        subject: subject.into(),
        lesson_date: "2026-09-01".into(),
        content_md: String::new(),
        content_html: String::new(),
        homework_md: format!("Travail de {subject}"),
        homework_html: format!("<p>Travail de {subject}</p>"),
        due_date: Some(due.into()),
        workload_minutes: Some(30),
        is_test: false,
        publish_at: NOW - 10,
    }
}

async fn lesson(store: &SqlStore, school: SchoolId, target: Target, author: UserId) -> i64 {
    store
        .create_lesson(&NewLesson {
            school_id: school,
            target,
            author_id: author,
            fields: homework("Latin", "2026-09-03"),
            attachments: Vec::new(),
            now: NOW,
        })
        .await
        .unwrap()
}

fn cohorts(classes: &[ClassId], groups: &[GroupId]) -> Cohorts {
    Cohorts {
        classes: classes.to_vec(),
        groups: groups.to_vec(),
    }
}

fn file(name: &str) -> NewAttachment {
    NewAttachment {
        blob_key: format!("blobs/{name}"),
        file_name: name.into(),
        content_type: "application/pdf".into(),
        size: 100,
        sha256: format!("sha-{name}"),
    }
}

async fn teacher_groups_are_set_replaced_and_scoped_by_the_roster(store: &SqlStore) {
    let w = world(store).await;
    let snapshot = store.roster_snapshot(w.a).await.unwrap();
    let teaches = |s: &cartable_domain::roster::RosterSnapshot, id: UserId| {
        s.people
            .iter()
            .find(|p| p.id == id)
            .unwrap()
            .teaches_groups
            .clone()
    };
    assert_eq!(teaches(&snapshot, w.camille), [w.latin].into());
    assert!(teaches(&snapshot, w.paul).is_empty());

    // Replacing: Paul takes Latin, Camille gets a new group made in the same run.
    let ops = vec![
        RosterOp::CreateGroup {
            name: name("Espagnol LV2"),
        },
        RosterOp::SetTeacherGroups {
            teacher: PersonRef::Existing(w.paul),
            groups: vec![GroupRef::Existing(w.latin)],
        },
        RosterOp::SetTeacherGroups {
            teacher: PersonRef::Existing(w.camille),
            groups: vec![GroupRef::New(0)],
        },
    ];
    store.apply_roster(w.a, &ops, 6).await.unwrap();
    let snapshot = store.roster_snapshot(w.a).await.unwrap();
    assert_eq!(teaches(&snapshot, w.paul), [w.latin].into());
    let camille = teaches(&snapshot, w.camille);
    assert_eq!(camille.len(), 1);
    assert!(!camille.contains(&w.latin));
    // Applying the same again changes nothing (no duplicate rows).
    store
        .apply_roster(
            w.a,
            &[RosterOp::SetTeacherGroups {
                teacher: PersonRef::Existing(w.paul),
                groups: vec![GroupRef::Existing(w.latin), GroupRef::Existing(w.latin)],
            }],
            7,
        )
        .await
        .unwrap();
    assert_eq!(
        teaches(&store.roster_snapshot(w.a).await.unwrap(), w.paul),
        [w.latin].into()
    );

    // Another school's group: refused, and the whole run is undone.
    let err = store
        .apply_roster(
            w.a,
            &[
                RosterOp::SetTeacherGroups {
                    teacher: PersonRef::Existing(w.paul),
                    groups: vec![],
                },
                RosterOp::SetTeacherGroups {
                    teacher: PersonRef::Existing(w.camille),
                    groups: vec![GroupRef::Existing(w.grec)],
                },
            ],
            8,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let snapshot = store.roster_snapshot(w.a).await.unwrap();
    assert_eq!(teaches(&snapshot, w.paul), [w.latin].into());
    assert!(!teaches(&snapshot, w.camille).contains(&w.grec));
    // School B's snapshot is its own.
    let b = store.roster_snapshot(w.b).await.unwrap();
    assert_eq!(teaches(&b, w.jules), [w.grec].into());
    assert!(b.people.iter().all(|p| p.id != w.paul));
}

async fn the_actor_knows_its_groups(store: &SqlStore) {
    let w = world(store).await;
    let groups = |id| async move { store.actor(id).await.unwrap().unwrap().groups };
    assert_eq!(groups(w.camille).await, [w.latin].into());
    assert_eq!(groups(w.lea).await, [w.latin].into());
    assert_eq!(groups(w.hugo).await, [w.latin].into());
    assert!(groups(w.noe).await.is_empty());
    assert_eq!(groups(w.sophie).await, [w.latin].into(), "a child's group");
    assert!(groups(w.paul).await.is_empty());

    let names = |list: Vec<GroupSummary>| list.into_iter().map(|g| g.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.groups_of(w.a, w.camille).await.unwrap()),
        ["Latin"]
    );
    assert_eq!(
        names(store.groups_of(w.a, w.sophie).await.unwrap()),
        ["Latin"]
    );
    assert!(store.groups_of(w.b, w.camille).await.unwrap().is_empty());
    let latin = store.group(w.a, w.latin).await.unwrap().unwrap();
    assert_eq!((latin.name.as_str(), latin.pupils), ("Latin", 2));
    assert_eq!(store.groups(w.a).await.unwrap().len(), 1);
    assert_eq!(
        store.pupil_cohorts(w.a, w.lea).await.unwrap(),
        cohorts(&[w.class_a], &[w.latin])
    );
    assert_eq!(
        store.pupil_cohorts(w.a, w.noe).await.unwrap(),
        cohorts(&[w.class_a], &[])
    );
    assert!(store.pupil_cohorts(w.b, w.lea).await.unwrap().is_empty());
}

async fn lessons_for_a_group_reach_its_members_only(store: &SqlStore) {
    let w = world(store).await;
    let latin = Target::Group(w.latin);
    let id = lesson(store, w.a, latin, w.camille).await;
    let class_lesson = lesson(store, w.a, Target::Class(w.class_a), w.paul).await;
    let row = store.lesson(w.a, id).await.unwrap().unwrap();
    assert_eq!(row.target, latin);
    assert_eq!(row.target_name, "Latin");
    assert_eq!(
        store
            .lesson(w.a, class_lesson)
            .await
            .unwrap()
            .unwrap()
            .target_name,
        "6e A"
    );
    let week = store
        .target_lessons(w.a, latin, "2026-08-31", "2026-09-06", NOW, false)
        .await
        .unwrap();
    assert_eq!(week.iter().map(|l| l.id).collect::<Vec<_>>(), [id]);
    let class_week = store
        .target_lessons(
            w.a,
            Target::Class(w.class_a),
            "2026-08-31",
            "2026-09-06",
            NOW,
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        class_week.iter().map(|l| l.id).collect::<Vec<_>>(),
        [class_lesson]
    );

    let due = |c: Cohorts, pupil: Option<UserId>| async move {
        store
            .homework_due(w.a, &c, "2026-09-01", "2026-09-10", NOW, pupil)
            .await
            .unwrap()
    };
    let lea = store.pupil_cohorts(w.a, w.lea).await.unwrap();
    let ids = |d: Vec<DueHomework>| d.into_iter().map(|d| d.lesson.id).collect::<Vec<_>>();
    assert_eq!(ids(due(lea.clone(), Some(w.lea)).await), [id, class_lesson]);
    let noe = store.pupil_cohorts(w.a, w.noe).await.unwrap();
    assert_eq!(ids(due(noe, Some(w.noe)).await), [class_lesson]);
    assert!(due(Cohorts::default(), None).await.is_empty());

    // Done marks: a member may tick it, a classmate outside the group may not.
    store
        .set_homework_done(w.a, id, w.lea, true, NOW)
        .await
        .unwrap();
    store
        .set_homework_done(w.a, id, w.noe, true, NOW)
        .await
        .unwrap();
    store
        .set_homework_done(w.b, id, w.hugo, true, NOW)
        .await
        .unwrap();
    let marks = due(lea, Some(w.lea)).await;
    assert!(marks.iter().find(|d| d.lesson.id == id).unwrap().done);
    let hugo = store.pupil_cohorts(w.a, w.hugo).await.unwrap();
    let hugo_marks = due(hugo, Some(w.hugo)).await;
    assert!(!hugo_marks.iter().find(|d| d.lesson.id == id).unwrap().done);
    let noe_as_member = due(cohorts(&[], &[w.latin]), Some(w.noe)).await;
    assert!(!noe_as_member[0].done, "a non-member's mark was not stored");
}

async fn assignments_for_a_group_take_hand_ins_from_its_members_only(store: &SqlStore) {
    let w = world(store).await;
    let latin = Target::Group(w.latin);
    let id = store
        .create_assignment(&NewAssignment {
            school_id: w.a,
            target: latin,
            author_id: w.camille,
            subject: "Latin".into(),
            title: "Version".into(),
            instructions_md: String::new(),
            instructions_html: String::new(),
            due_at: NOW + 86_400,
            accepts_files: true,
            accepts_text: true,
            attachments: vec![file("texte.pdf")],
            now: NOW,
        })
        .await
        .unwrap();
    let a = store.assignment(w.a, id).await.unwrap().unwrap();
    assert_eq!((a.target, a.target_name.as_str()), (latin, "Latin"));
    assert_eq!(a.attachments.len(), 1);
    let listed = |c: Cohorts| async move {
        store
            .cohort_assignments(w.a, &c, 0)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listed(store.pupil_cohorts(w.a, w.hugo).await.unwrap()).await,
        [id]
    );
    assert!(listed(store.pupil_cohorts(w.a, w.noe).await.unwrap())
        .await
        .is_empty());

    let hand_in = |pupil: UserId, key: &str| NewSubmission {
        school_id: w.a,
        assignment_id: id,
        pupil_id: pupil,
        text_md: "Gallia est omnis divisa".into(),
        text_html: "<p>Gallia est omnis divisa</p>".into(),
        text_sha256: "x".into(),
        late: false,
        idempotency_key: key.into(),
        files: Vec::new(),
        now: NOW,
        audit: None,
    };
    assert!(matches!(
        store.submit(&hand_in(w.hugo, "k1")).await.unwrap(),
        SubmitOutcome::Recorded(_)
    ));
    let err = store.submit(&hand_in(w.noe, "k2")).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");

    // The teacher's table: the group's members, each with their class.
    let work = store.assignment_work(w.a, id).await.unwrap();
    let rows: Vec<(UserId, Option<String>, bool)> = work
        .iter()
        .map(|w| (w.pupil.id, w.pupil.detail.clone(), w.submission.is_some()))
        .collect();
    assert_eq!(
        rows,
        [
            (w.lea, Some("6e A".to_string()), false),
            (w.hugo, Some("6e B".to_string()), true),
        ]
    );
    let feedback = NewFeedback {
        feedback_md: "Bien".into(),
        feedback_html: "<p>Bien</p>".into(),
        mark: None,
    };
    store
        .set_feedback(w.a, id, w.hugo, &feedback, NOW)
        .await
        .unwrap();
    let err = store
        .set_feedback(w.a, id, w.noe, &feedback, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn workload_cohorts_follow_the_pupils(store: &SqlStore) {
    let w = world(store).await;
    // 6e A's pupils: Léa is in Latin, so Latin weighs on 6e A.
    assert_eq!(
        store
            .cohorts_sharing_pupils(w.a, Target::Class(w.class_a))
            .await
            .unwrap(),
        cohorts(&[w.class_a], &[w.latin])
    );
    // Latin's pupils come from 6e A and 6e B.
    assert_eq!(
        store
            .cohorts_sharing_pupils(w.a, Target::Group(w.latin))
            .await
            .unwrap(),
        cohorts(&[w.class_a, w.class_b], &[w.latin])
    );
    // Another school's class: nothing but itself, and its homework is not found.
    assert_eq!(
        store
            .cohorts_sharing_pupils(w.b, Target::Class(w.class_a))
            .await
            .unwrap(),
        cohorts(&[w.class_a], &[])
    );
}

async fn a_group_of_another_school_is_not_found(store: &SqlStore) {
    let w = world(store).await;
    let err = store
        .create_lesson(&NewLesson {
            school_id: w.a,
            target: Target::Group(w.grec),
            author_id: w.camille,
            fields: homework("Grec", "2026-09-03"),
            attachments: vec![file("a.pdf")],
            now: NOW,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let err = store
        .create_assignment(&NewAssignment {
            school_id: w.a,
            target: Target::Group(w.grec),
            author_id: w.camille,
            subject: "Grec".into(),
            title: "Thème".into(),
            instructions_md: String::new(),
            instructions_html: String::new(),
            due_at: NOW + 86_400,
            accepts_files: true,
            accepts_text: true,
            attachments: Vec::new(),
            now: NOW,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert!(store.group(w.a, w.grec).await.unwrap().is_none());
    // School B's own lesson for its group stays out of school A's reads.
    let id = lesson(store, w.b, Target::Group(w.grec), w.jules).await;
    assert!(store.lesson(w.a, id).await.unwrap().is_none());
    assert!(store
        .target_lessons(
            w.a,
            Target::Group(w.grec),
            "2026-08-31",
            "2026-09-06",
            NOW,
            true
        )
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .homework_due(
            w.a,
            &cohorts(&[], &[w.grec]),
            "2026-09-01",
            "2026-09-10",
            NOW,
            None
        )
        .await
        .unwrap()
        .is_empty());
}

async fn lesson_files_are_added_and_removed_by_the_author_only(store: &SqlStore) {
    let w = world(store).await;
    let id = lesson(store, w.a, Target::Group(w.latin), w.camille).await;
    assert!(store
        .add_lesson_attachments(w.a, id, w.camille, &[file("1.pdf"), file("2.pdf")], NOW)
        .await
        .unwrap());
    assert!(!store
        .add_lesson_attachments(w.a, id, w.paul, &[file("3.pdf")], NOW)
        .await
        .unwrap());
    assert!(!store
        .add_lesson_attachments(w.b, id, w.camille, &[file("3.pdf")], NOW)
        .await
        .unwrap());
    let files = store.lesson(w.a, id).await.unwrap().unwrap().attachments;
    let names = |files: &[AttachmentRow]| {
        files
            .iter()
            .map(|f| f.file_name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&files), ["1.pdf", "2.pdf"]);
    let first = files[0].id;
    assert!(store
        .remove_lesson_attachment(w.a, id, w.paul, first)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .remove_lesson_attachment(w.b, id, w.camille, first)
        .await
        .unwrap()
        .is_none());
    let other = lesson(store, w.a, Target::Group(w.latin), w.camille).await;
    assert!(
        store
            .remove_lesson_attachment(w.a, other, w.camille, first)
            .await
            .unwrap()
            .is_none(),
        "a file of another lesson"
    );
    let removed = store
        .remove_lesson_attachment(w.a, id, w.camille, first)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(removed.blob_key, "blobs/1.pdf");
    let files = store.lesson(w.a, id).await.unwrap().unwrap().attachments;
    assert_eq!(names(&files), ["2.pdf"]);
    assert!(store
        .remove_lesson_attachment(w.a, id, w.camille, first)
        .await
        .unwrap()
        .is_none());
}
